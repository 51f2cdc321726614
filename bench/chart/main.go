// Command chart draws bench/throughput.png from bench/results/summary.json:
// sign-in ceremonies per second against concurrency, one line per
// database, with the standard library's image packages only.
//
//	go run ./bench/chart -in bench/results/summary.json -out bench/throughput.png
//
// Run by scripts/bench after bench/summarize.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"sort"
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
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{30, 30, 30, 255}
	grid  = color.RGBA{225, 225, 225, 255}
	// Line colours, by database.
	colours = map[string]color.RGBA{
		"sqlite":   {0, 114, 178, 255},
		"postgres": {213, 94, 0, 255},
	}
	names = map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}
)

func main() {
	in := flag.String("in", "bench/results/summary.json", "summary written by bench/summarize")
	out := flag.String("out", "bench/throughput.png", "PNG to write")
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
	const W, H = 960, 600
	const left, right, top, bottom = 110, 40, 70, 90
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)

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
	px := func(c int) int {
		return left + int((math.Log2(float64(c))-x0)/(x1-x0)*float64(W-left-right))
	}
	py := func(v float64) int { return H - bottom - int(v/yMax*float64(H-top-bottom)) }

	for v := 0.0; v <= yMax+step/2; v += step {
		y := py(v)
		hline(img, left, W-right, y, grid)
		label := fmt.Sprintf("%.0f", v)
		drawText(img, left-12-textWidth(label, 2), y-7, label, 2, black)
	}
	for _, c := range cs {
		x := px(c)
		vline(img, x, top, H-bottom, grid)
		label := fmt.Sprint(c)
		drawText(img, x-textWidth(label, 2)/2, H-bottom+12, label, 2, black)
	}
	hline(img, left, W-right, H-bottom, black)
	vline(img, left, top, H-bottom, black)
	title := "Sign-in ceremonies per second vs concurrency"
	drawText(img, (W-textWidth(title, 3))/2, 18, title, 3, black)
	xl := "Concurrent browsers (load tool on the same machine)"
	drawText(img, (W-textWidth(xl, 2))/2, H-bottom+44, xl, 2, black)
	drawText(img, 10, top-22, "Sign-ins/s", 2, black)

	dbs := make([]string, 0, len(s.Sweeps))
	for db := range s.Sweeps {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	ly := top + 10
	for _, db := range dbs {
		c, ok := colours[db]
		if !ok {
			c = color.RGBA{0, 158, 115, 255}
		}
		ps := s.Sweeps[db]
		sort.Slice(ps, func(i, j int) bool { return ps[i].Concurrency < ps[j].Concurrency })
		for i, p := range ps {
			x, y := px(p.Concurrency), py(p.SignInsPerS)
			dot(img, x, y, 5, c)
			if i > 0 {
				line(img, px(ps[i-1].Concurrency), py(ps[i-1].SignInsPerS), x, y, c)
			}
		}
		name := names[db]
		if name == "" {
			name = db
		}
		lx := W - right - 260
		thick(img, lx, ly+7, lx+40, ly+7, c)
		drawText(img, lx+52, ly, name, 2, black)
		ly += 28
	}
	if cpu, ok := s.Machine["cpu_model"].(string); ok {
		foot := fmt.Sprintf("%v CPUs, %s, %s", s.Machine["nproc"], cpu, s.Date[:10])
		drawText(img, left, H-22, foot, 2, color.RGBA{110, 110, 110, 255})
	}

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

// line draws a 3-pixel-wide segment.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	thick(img, x0, y0, x1, y1, c)
}

func thick(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				img.Set(x+dx, y+dy, c)
			}
		}
	}
}

func dot(img *image.RGBA, cx, cy, r int, c color.Color) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r {
				img.Set(cx+x, cy+y, c)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
