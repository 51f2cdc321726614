package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"
)

// The chart is SVG with its words as text (set in the reader's fonts),
// a point per measurement, and bench/throughput.svg is the chart of the
// committed results.
func TestChartOfTheResults(t *testing.T) {
	b, err := os.ReadFile("../results/summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	svg := chart(s)

	var texts []string
	circles, points := 0, 0
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "text":
			var text string
			if err := dec.DecodeElement(&text, &start); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, text)
		case "circle":
			circles++
		case "image":
			t.Fatal("the chart embeds an image; its words must be text")
		}
	}
	for _, ps := range s.Sweeps {
		points += len(ps)
	}
	if circles != points {
		t.Errorf("%d points drawn, %d measured", circles, points)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"Sign-in ceremonies per second vs concurrency", "Sign-ins/s", "Concurrent browsers", "SQLite", "PostgreSQL", "1,000", "64"} {
		if !strings.Contains(all, want) {
			t.Errorf("no text %q in the chart; its texts:\n%s", want, all)
		}
	}
	committed, err := os.ReadFile("../throughput.svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, svg) {
		t.Error("bench/throughput.svg is not the chart of bench/results/summary.json: go run ./bench/chart")
	}
}
