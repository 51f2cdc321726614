// Command startup measures how long a server takes from process start
// until it answers a URL (passkeyd's /healthz): it starts the command,
// polls the URL every half millisecond, stops the server with SIGTERM,
// and does so -runs times. It prints one line of JSON:
//
//	go run ./bench/startup -url http://127.0.0.1:8080/healthz -runs 5 -- ./passkeyd
//	{"url":"...","runs_ms":[41.2,...],"median_ms":41.2,"min_ms":...,"max_ms":...}
//
// The server's environment is this program's. Used by scripts/bench.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

func main() {
	url := flag.String("url", "", "URL that answers 200 once the server is ready")
	runs := flag.Int("runs", 5, "number of starts")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on a start after this long")
	flag.Parse()
	if *url == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: startup -url URL [-runs N] -- command [args]")
		os.Exit(2)
	}
	var ms []float64
	for range *runs {
		d, err := once(*url, *timeout, flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "startup:", err)
			os.Exit(1)
		}
		ms = append(ms, float64(d.Microseconds())/1000)
	}
	sorted := slices.Clone(ms)
	slices.Sort(sorted)
	out, _ := json.Marshal(map[string]any{
		"url": *url, "runs_ms": ms, "median_ms": sorted[len(sorted)/2],
		"min_ms": sorted[0], "max_ms": sorted[len(sorted)-1],
	})
	fmt.Println(string(out))
}

// once starts the command, waits until url answers 200 and returns the
// time that took; then it stops the server and waits for it to exit.
func once(url string, timeout time.Duration, argv []string) (time.Duration, error) {
	client := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = nil, nil // the server's log is not wanted here
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				d := time.Since(start)
				stop()
				return d, nil
			}
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("%s exited before it was ready: %v", argv[0], err)
		case <-ctx.Done():
			stop()
			return 0, fmt.Errorf("%s not ready after %v", argv[0], timeout)
		case <-time.After(500 * time.Microsecond):
		}
	}
}
