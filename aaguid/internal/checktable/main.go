// Command checktable checks that a file is a JSON object mapping AAGUIDs
// (UUID strings) to non-empty names, as scripts/gen-aaguids needs.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/uuid"
)

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var table map[string]string
	if err := json.Unmarshal(b, &table); err != nil {
		fail(err)
	}
	if len(table) < 50 {
		fail(fmt.Errorf("only %d entries", len(table)))
	}
	for id, name := range table {
		if _, err := uuid.Parse(id); err != nil || name == "" {
			fail(fmt.Errorf("bad entry %q: %q", id, name))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "checktable:", err)
	os.Exit(1)
}
