// Command chart draws bench/throughput.svg from bench/results/summary.json:
// sign-in ceremonies per second against concurrency, one line per
// database. It writes SVG, so the text is set in the reader's own fonts
// and the lines stay sharp at any size; the standard library is enough.
//
//	go run ./bench/chart -in bench/results/summary.json -out bench/throughput.svg
//
// Run by scripts/bench after bench/summarize.
package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

type point struct {
	Concurrency int     `json:"concurrency"`
	SignInsPerS float64 `json:"signins_per_second"`
	VerifyP99   float64 `json:"verify_p99_ms"`
}

type summary struct {
	Date    string             `json:"date"`
	Machine map[string]any     `json:"machine"`
	Sweeps  map[string][]point `json:"sweeps"`
}

var (
	// Line colours, by database (Okabe–Ito, readable with colour blindness).
	colours = map[string]string{"sqlite": "#0072b2", "postgres": "#d55e00"}
	names   = map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}
)

func main() {
	in := flag.String("in", "bench/results/summary.json", "summary written by bench/summarize")
	out := flag.String("out", "bench/throughput.svg", "SVG to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if len(s.Sweeps) == 0 {
		return fmt.Errorf("%s has no sweeps", in)
	}
	return os.WriteFile(out, chart(s), 0o644)
}

// chart returns the SVG document.
func chart(s summary) []byte {
	const W, H = 960, 600
	const left, right, top, bottom = 100, 40, 70, 90

	// Axes: x is log2(concurrency), y is linear from 0.
	var cs []int
	seen := map[int]bool{}
	maxY := 0.0
	for _, ps := range s.Sweeps {
		for _, p := range ps {
			if !seen[p.Concurrency] {
				seen[p.Concurrency] = true
				cs = append(cs, p.Concurrency)
			}
			maxY = math.Max(maxY, p.SignInsPerS)
		}
	}
	sort.Ints(cs)
	x0, x1 := math.Log2(float64(cs[0])), math.Log2(float64(cs[len(cs)-1]))
	if x1 == x0 {
		x1 = x0 + 1
	}
	step := niceStep(maxY / 5)
	yMax := math.Ceil(maxY*1.1/step) * step
	px := func(c int) float64 {
		return left + (math.Log2(float64(c))-x0)/(x1-x0)*(W-left-right)
	}
	py := func(v float64) float64 { return H - bottom - v/yMax*(H-top-bottom) }

	var w bytes.Buffer
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" font-size="15" fill="#1e1e1e">`+"\n", W, H, W, H)
	title := "Sign-in ceremonies per second vs concurrency"
	fmt.Fprintf(&w, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&w, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", W, H)

	w.WriteString(`<g stroke="#e1e1e1" stroke-width="1">` + "\n")
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(&w, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`+"\n", left, W-right, py(v), py(v))
	}
	for _, c := range cs {
		fmt.Fprintf(&w, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`+"\n", px(c), px(c), top, H-bottom)
	}
	w.WriteString("</g>\n")
	fmt.Fprintf(&w, `<path d="M%d %d V%d H%d" fill="none" stroke="#1e1e1e" stroke-width="1.5"/>`+"\n", left, top, H-bottom, W-right)

	w.WriteString(`<g text-anchor="end" dominant-baseline="middle">` + "\n")
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(&w, `<text x="%d" y="%.1f">%s</text>`+"\n", left-10, py(v), thousands(v))
	}
	w.WriteString("</g>\n")
	w.WriteString(`<g text-anchor="middle">` + "\n")
	for _, c := range cs {
		fmt.Fprintf(&w, `<text x="%.1f" y="%d">%d</text>`+"\n", px(c), H-bottom+24, c)
	}
	w.WriteString("</g>\n")
	fmt.Fprintf(&w, `<text x="%d" y="36" text-anchor="middle" font-size="22" font-weight="600">%s</text>`+"\n", W/2, esc(title))
	fmt.Fprintf(&w, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (left+W-right)/2, H-bottom+54, esc("Concurrent browsers (load tool on the same machine)"))
	fmt.Fprintf(&w, `<text x="%d" y="%d">%s</text>`+"\n", left-70, top-16, "Sign-ins/s")

	dbs := make([]string, 0, len(s.Sweeps))
	for db := range s.Sweeps {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	ly := top + 20
	for _, db := range dbs {
		c, ok := colours[db]
		if !ok {
			c = "#009e73"
		}
		ps := s.Sweeps[db]
		sort.Slice(ps, func(i, j int) bool { return ps[i].Concurrency < ps[j].Concurrency })
		var pts []string
		for _, p := range ps {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.Concurrency), py(p.SignInsPerS)))
		}
		name := names[db]
		if name == "" {
			name = db
		}
		fmt.Fprintf(&w, `<g data-database="%s" stroke="%s" fill="%s">`+"\n", esc(db), c, c)
		fmt.Fprintf(&w, `<polyline points="%s" fill="none" stroke-width="3" stroke-linejoin="round"/>`+"\n", strings.Join(pts, " "))
		for _, p := range ps {
			fmt.Fprintf(&w, `<circle cx="%.1f" cy="%.1f" r="5"><title>%s, concurrency %d: %.0f sign-ins/s</title></circle>`+"\n",
				px(p.Concurrency), py(p.SignInsPerS), esc(name), p.Concurrency, p.SignInsPerS)
		}
		w.WriteString("</g>\n")
		lx := W - right - 220
		fmt.Fprintf(&w, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", lx, lx+40, ly, ly, c)
		fmt.Fprintf(&w, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", lx+52, ly, esc(name))
		ly += 28
	}
	if cpu, ok := s.Machine["cpu_model"].(string); ok && len(s.Date) >= 10 {
		foot := fmt.Sprintf("%v CPUs, %s, %s", s.Machine["nproc"], cpu, s.Date[:10])
		fmt.Fprintf(&w, `<text x="%d" y="%d" fill="#6e6e6e" font-size="13">%s</text>`+"\n", left, H-16, esc(foot))
	}
	w.WriteString("</svg>\n")
	return w.Bytes()
}

// esc escapes text for XML.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// thousands writes 1500 as 1,500.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// niceStep rounds a raw tick step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}
