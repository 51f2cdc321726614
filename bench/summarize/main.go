// Command summarize turns the raw output of one scripts/bench run into
// bench/results/summary.json: medians of the repeated runs, the ratios the
// targets of issues 6 and 12 are stated in, and whether each target is reached.
//
//	go run ./bench/summarize -run DIR -out bench/results
//
// DIR holds what scripts/bench wrote: verify.txt (go test -bench output of
// BenchmarkVerifyP256), alloc.txt (BenchmarkCeremonyHTTP, -benchmem: the
// bytes and objects allocated per sign-in and per registration), sweep-DB-cC-rR.json (one load tool summary per
// run), oidc-DB-ALG-rR.json (the app sign-in, -mode oidc) with sign.txt
// (BenchmarkIDTokenSignature of bench/sign), big-sqlite.json,
// repeat-sqlite-K.json, startup-sqlite.json and seed-sqlite.json.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd/internal/loadresult"
)

// Point is one concurrency level of a sweep: medians over its runs.
type Point struct {
	Concurrency int     `json:"concurrency"`
	Runs        int     `json:"runs"`
	SignInsPerS float64 `json:"signins_per_second"`
	// Sign-in loadresult.Latency per endpoint, milliseconds.
	OptionsP50 float64 `json:"options_p50_ms"`
	OptionsP99 float64 `json:"options_p99_ms"`
	VerifyP50  float64 `json:"verify_p50_ms"`
	VerifyP95  float64 `json:"verify_p95_ms"`
	VerifyP99  float64 `json:"verify_p99_ms"`
	// Server CPU per ceremony, µs and in P-256 verifications.
	SignInCPUUS        float64 `json:"signin_server_cpu_us"`
	SignInCPUVerifies  float64 `json:"signin_server_cpu_verifications"`
	RegisterCPUUS      float64 `json:"register_server_cpu_us"`
	RegisterCPUVerifs  float64 `json:"register_server_cpu_verifications"`
	ToolCPUPerSignInUS float64 `json:"tool_cpu_per_signin_us"`
	// OtherCPUShare is the share of the machine's CPU that neither the
	// server nor the load tool used during the sign-in phase: other
	// processes. Above a few percent the run was disturbed.
	OtherCPUShare float64 `json:"other_cpu_share"`
	Failed        int     `json:"failed"`
	ServerRSSMB   float64 `json:"server_rss_mb"`
}

// AppPoint is the app sign-in of one database and algorithm: medians over
// its runs. CPU figures are per completed app sign-in of phase two (a
// session, consent remembered), all instances together.
type AppPoint struct {
	Runs        int     `json:"runs"`
	Instances   int     `json:"instances"`
	Concurrency int     `json:"concurrency"`
	AppSignInsS float64 `json:"app_signins_per_second"`
	ServerCPUUS float64 `json:"server_cpu_us"`
	ServerCPUV  float64 `json:"server_cpu_verifications"`
	// SignatureUS is one ID-token signature of this algorithm (bench/sign,
	// CPU time), IDTokensPerSignIn how many the server signed per app
	// sign-in, SignatureShare their part of ServerCPUUS.
	SignatureUS       float64 `json:"signature_us"`
	IDTokensPerSignIn float64 `json:"id_tokens_per_signin"`
	SignatureShare    float64 `json:"signature_share"`
	// WithoutSignatures is ServerCPUUS less the signatures.
	WithoutSignaturesUS float64 `json:"server_cpu_without_signatures_us"`
	WithoutSignaturesV  float64 `json:"server_cpu_without_signatures_verifications"`
	// The first app sign-in of each user: passkey sign-in and consent too.
	FirstServerCPUUS   float64 `json:"first_server_cpu_us"`
	FirstServerCPUV    float64 `json:"first_server_cpu_verifications"`
	ToolCPUPerSignInUS float64 `json:"tool_cpu_per_signin_us"`
	OtherCPUShare      float64 `json:"other_cpu_share"`
	// Steps: each step's loadresult.Latency, the medians of the runs' percentiles.
	Steps  map[string]loadresult.Latency `json:"steps"`
	Failed int                           `json:"failed"`
	// Errors are all runs' failed requests by "step status".
	Errors map[string]int `json:"errors"`
}

// Target is one target of issue 6, 12 or 22.
type Target struct {
	Name    string  `json:"name"`
	Goal    string  `json:"goal"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	Reached bool    `json:"reached"`
	Note    string  `json:"note,omitempty"`
}

type verifyCost struct {
	NsPerOp    float64 `json:"ns_per_op"`
	CPUNsPerOp float64 `json:"cpu_ns_per_op"`
	Runs       int     `json:"runs"`
}

// Summary is bench/results/summary.json.
type Summary struct {
	Date    string                `json:"date"`
	Machine map[string]any        `json:"machine"`
	Verify  map[string]verifyCost `json:"verify_p256"`
	// UnitUS is one P-256 verification (VerifyASN1, CPU time), the unit
	// of the CPU targets.
	UnitUS  float64            `json:"unit_verification_us"`
	Sweeps  map[string][]Point `json:"sweeps"`
	Big     map[string]any     `json:"big_run,omitempty"`
	Repeat  map[string]any     `json:"repeated_runs,omitempty"`
	Startup map[string]any     `json:"startup,omitempty"`
	Seed    map[string]any     `json:"seed,omitempty"`
	Targets []Target           `json:"targets"`
	// Signatures is one ID-token signature per algorithm (RS256, ES256,
	// EdDSA; bench/sign), and AppSignIn the app sign-in (-mode oidc) by
	// database ("sqlite", "postgres2": two instances) and algorithm.
	Signatures map[string]verifyCost          `json:"id_token_signature,omitempty"`
	AppSignIn  map[string]map[string]AppPoint `json:"app_signin,omitempty"`
	// Allocations is what the server allocates per ceremony, "signin"
	// and "register" (BenchmarkCeremonyHTTP of web/: the whole handler
	// path through net/http, on SQLite; issue 22).
	Allocations map[string]allocCost `json:"allocations_per_ceremony,omitempty"`
}

// allocCost is the median bytes and objects one ceremony allocates.
type allocCost struct {
	Bytes   float64 `json:"bytes"`
	Objects float64 `json:"objects"`
	Runs    int     `json:"runs"`
}

var allocLine = regexp.MustCompile(`^BenchmarkCeremonyHTTP/(\w+)(?:-\d+)?\s+\d+\s+.*?([\d.]+) B/op\s+([\d.]+) allocs/op`)

// parseAllocs reads the medians of BenchmarkCeremonyHTTP's B/op and
// allocs/op, by ceremony ("signin", "register"); nil without the file.
func parseAllocs(path string) (map[string]allocCost, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bytes, objects := map[string][]float64{}, map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := allocLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := strings.ToLower(m[1])
		b, _ := strconv.ParseFloat(m[2], 64)
		o, _ := strconv.ParseFloat(m[3], 64)
		bytes[name] = append(bytes[name], b)
		objects[name] = append(objects[name], o)
	}
	if len(bytes) == 0 {
		return nil, fmt.Errorf("%s: no BenchmarkCeremonyHTTP result", path)
	}
	res := map[string]allocCost{}
	for k, v := range bytes {
		res[k] = allocCost{Bytes: median(v), Objects: median(objects[k]), Runs: len(v)}
	}
	return res, nil
}

func main() {
	runDir := flag.String("run", "", "directory of one scripts/bench run")
	out := flag.String("out", "bench/results", "where to write summary.json")
	flag.Parse()
	if err := summarize(*runDir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "summarize:", err)
		os.Exit(1)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

var (
	benchLine = regexp.MustCompile(`^BenchmarkVerifyP256/(\w+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) cpu-ns/op)?`)
	signLine  = regexp.MustCompile(`^BenchmarkIDTokenSignature/(\w+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) cpu-ns/op)?`)
)

func parseVerify(path string) (map[string]verifyCost, error) {
	res, err := parseBench(path, benchLine)
	if err != nil {
		return nil, err
	}
	if _, ok := res["VerifyASN1"]; !ok {
		return nil, fmt.Errorf("%s: no BenchmarkVerifyP256/VerifyASN1 result", path)
	}
	return res, nil
}

// parseBench reads the medians of go test -bench lines that line matches
// (name, ns/op, cpu-ns/op).
func parseBench(path string, line *regexp.Regexp) (map[string]verifyCost, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ns, cpu := map[string][]float64{}, map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		ns[m[1]] = append(ns[m[1]], v)
		if m[3] != "" {
			c, _ := strconv.ParseFloat(m[3], 64)
			cpu[m[1]] = append(cpu[m[1]], c)
		}
	}
	res := map[string]verifyCost{}
	for k, v := range ns {
		res[k] = verifyCost{NsPerOp: median(v), CPUNsPerOp: median(cpu[k]), Runs: len(v)}
	}
	return res, nil
}

var (
	sweepName = regexp.MustCompile(`^sweep-(\w+)-c(\d+)-r(\d+)\.json$`)
	oidcName  = regexp.MustCompile(`^oidc-(\w+)-(\w+)-r(\d+)\.json$`)
)

func summarize(runDir, out string) error {
	s := &Summary{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Sweeps: map[string][]Point{}}
	var err error
	if s.Verify, err = parseVerify(filepath.Join(runDir, "verify.txt")); err != nil {
		return err
	}
	unit := s.Verify["VerifyASN1"]
	s.UnitUS = unit.CPUNsPerOp / 1000
	if s.UnitUS == 0 {
		s.UnitUS = unit.NsPerOp / 1000
	}

	// Sweeps: group the runs by database and concurrency.
	runs := map[string]map[int][]loadresult.Summary{}
	entries, err := os.ReadDir(runDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		m := sweepName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		var ls loadresult.Summary
		if err := readJSON(filepath.Join(runDir, e.Name()), &ls); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		c, _ := strconv.Atoi(m[2])
		if runs[m[1]] == nil {
			runs[m[1]] = map[int][]loadresult.Summary{}
		}
		runs[m[1]][c] = append(runs[m[1]][c], ls)
	}
	for db, byC := range runs {
		var cs []int
		for c := range byC {
			cs = append(cs, c)
		}
		sort.Ints(cs)
		for _, c := range cs {
			s.Sweeps[db] = append(s.Sweeps[db], point(c, byC[c], s.UnitUS))
		}
	}

	if s.Allocations, err = parseAllocs(filepath.Join(runDir, "alloc.txt")); err != nil {
		return err
	}

	if err := appSignIns(s, runDir, entries); err != nil {
		return err
	}

	var big loadresult.Summary
	if readJSON(filepath.Join(runDir, "big-sqlite.json"), &big) == nil {
		s.Big = map[string]any{
			"database_users":             100_000,
			"concurrency":                big.Concurrency,
			"seconds":                    big.SignIn.Seconds,
			"signins_per_second":         big.SignIn.PerSecond,
			"verify_p99_ms":              big.SignIn.Endpoints["verify-authentication"].P99,
			"server_rss_mb":              float64(big.ServerRSSKB) / 1024,
			"server_peak_rss_mb":         float64(big.ServerMaxRSSKB) / 1024,
			"signin_server_cpu_us":       big.SignIn.ServerCPUPerCeremonyUS,
			"register_server_cpu_us":     big.Register.ServerCPUPerCeremonyUS,
			"registered_by_the_load_run": big.Register.Ceremonies,
			"failed":                     big.SignIn.Failed + big.Register.Failed,
		}
	}
	var rss []float64
	for k := 1; ; k++ {
		var r loadresult.Summary
		if readJSON(filepath.Join(runDir, fmt.Sprintf("repeat-sqlite-%d.json", k)), &r) != nil {
			break
		}
		rss = append(rss, float64(r.ServerRSSKB)/1024)
	}
	if len(rss) > 0 {
		s.Repeat = map[string]any{"server_rss_mb_after_each": rss, "growth_mb": rss[len(rss)-1] - rss[0]}
	}
	_ = readJSON(filepath.Join(runDir, "startup-sqlite.json"), &s.Startup)
	_ = readJSON(filepath.Join(runDir, "seed-sqlite.json"), &s.Seed)

	s.Targets = targets(s)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for _, t := range s.Targets {
		mark := "MISSED "
		if t.Reached {
			mark = "reached"
		}
		fmt.Printf("%s  %-44s %10.2f %-16s (goal %s)\n", mark, t.Name, t.Value, t.Unit, t.Goal)
	}
	for _, db := range slices.Sorted(maps.Keys(s.AppSignIn)) {
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			p, ok := s.AppSignIn[db][alg]
			if !ok {
				continue
			}
			fmt.Printf("app sign-in %-9s %-5s %7.1f/s  server CPU %6.0f µs = %5.1f verifications (signatures %4.1f %%, %5.1f without; first %5.1f)  token p99 %6.1f ms  %d failed\n",
				db, alg, p.AppSignInsS, p.ServerCPUUS, p.ServerCPUV, 100*p.SignatureShare, p.WithoutSignaturesV, p.FirstServerCPUV, p.Steps["token"].P99, p.Failed)
		}
	}
	return nil
}

func point(c int, rs []loadresult.Summary, unitUS float64) Point {
	col := func(f func(loadresult.Summary) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	p := Point{Concurrency: c, Runs: len(rs)}
	p.SignInsPerS = col(func(r loadresult.Summary) float64 { return r.SignIn.PerSecond })
	p.OptionsP50 = col(func(r loadresult.Summary) float64 { return r.SignIn.Endpoints["generate-authentication-options"].P50 })
	p.OptionsP99 = col(func(r loadresult.Summary) float64 { return r.SignIn.Endpoints["generate-authentication-options"].P99 })
	p.VerifyP50 = col(func(r loadresult.Summary) float64 { return r.SignIn.Endpoints["verify-authentication"].P50 })
	p.VerifyP95 = col(func(r loadresult.Summary) float64 { return r.SignIn.Endpoints["verify-authentication"].P95 })
	p.VerifyP99 = col(func(r loadresult.Summary) float64 { return r.SignIn.Endpoints["verify-authentication"].P99 })
	p.SignInCPUUS = col(func(r loadresult.Summary) float64 { return r.SignIn.ServerCPUPerCeremonyUS })
	p.RegisterCPUUS = col(func(r loadresult.Summary) float64 { return r.Register.ServerCPUPerCeremonyUS })
	p.ToolCPUPerSignInUS = col(func(r loadresult.Summary) float64 { return toolCPUPerCeremonyUS(r.SignIn) })
	p.OtherCPUShare = col(func(r loadresult.Summary) float64 { return otherCPUShare(r.SignIn) })
	p.ServerRSSMB = col(func(r loadresult.Summary) float64 { return float64(r.ServerRSSKB) / 1024 })
	for _, r := range rs {
		p.Failed += r.SignIn.Failed + r.Register.Failed
	}
	if unitUS > 0 {
		p.SignInCPUVerifies = p.SignInCPUUS / unitUS
		p.RegisterCPUVerifs = p.RegisterCPUUS / unitUS
	}
	return p
}

// appSignIns reads the oidc runs and the signatures measured with them.
func appSignIns(s *Summary, runDir string, entries []os.DirEntry) error {
	runs := map[string]map[string][]loadresult.Summary{}
	for _, e := range entries {
		m := oidcName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		var ls loadresult.Summary
		if err := readJSON(filepath.Join(runDir, e.Name()), &ls); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		if ls.App == nil || ls.AppFirst == nil {
			return fmt.Errorf("%s: not a -mode oidc summary", e.Name())
		}
		if ls.App.IDTokenAlg != m[2] {
			return fmt.Errorf("%s: ID tokens signed %q, not %s: is the client registered with -id-token-alg %s?", e.Name(), ls.App.IDTokenAlg, m[2], m[2])
		}
		if runs[m[1]] == nil {
			runs[m[1]] = map[string][]loadresult.Summary{}
		}
		runs[m[1]][m[2]] = append(runs[m[1]][m[2]], ls)
	}
	if len(runs) == 0 {
		return nil
	}
	var err error
	if s.Signatures, err = parseBench(filepath.Join(runDir, "sign.txt"), signLine); err != nil {
		return err
	}
	s.AppSignIn = map[string]map[string]AppPoint{}
	for db, byAlg := range runs {
		s.AppSignIn[db] = map[string]AppPoint{}
		for alg, rs := range byAlg {
			sig := s.Signatures[alg].CPUNsPerOp / 1000
			if sig == 0 {
				sig = s.Signatures[alg].NsPerOp / 1000
			}
			s.AppSignIn[db][alg] = appPoint(rs, s.UnitUS, sig)
		}
	}
	return nil
}

func appPoint(rs []loadresult.Summary, unitUS, signatureUS float64) AppPoint {
	col := func(f func(loadresult.Summary) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	p := AppPoint{Runs: len(rs), Instances: max(1, len(rs[0].ServerPIDs)), Concurrency: rs[0].Concurrency,
		SignatureUS: signatureUS, Steps: map[string]loadresult.Latency{}, Errors: map[string]int{}}
	p.AppSignInsS = col(func(r loadresult.Summary) float64 { return r.SignIn.PerSecond })
	p.ServerCPUUS = col(func(r loadresult.Summary) float64 { return r.SignIn.ServerCPUPerCeremonyUS })
	p.IDTokensPerSignIn = col(func(r loadresult.Summary) float64 { return r.App.IDTokensPerSignIn })
	p.FirstServerCPUUS = col(func(r loadresult.Summary) float64 { return r.AppFirst.ServerCPUPerCeremonyUS })
	p.ToolCPUPerSignInUS = col(func(r loadresult.Summary) float64 { return toolCPUPerCeremonyUS(r.SignIn) })
	p.OtherCPUShare = col(func(r loadresult.Summary) float64 { return otherCPUShare(r.SignIn) })
	steps := map[string]bool{}
	for _, r := range rs {
		p.Failed += r.Register.Failed + r.AppFirst.Failed + r.SignIn.Failed
		for _, ph := range []loadresult.Phase{r.Register, *r.AppFirst, r.SignIn} {
			for k, n := range ph.Errors {
				p.Errors[k] += n
			}
		}
		for step := range r.SignIn.Endpoints {
			steps[step] = true
		}
	}
	for step := range steps {
		at := func(f func(loadresult.Latency) float64) float64 {
			return col(func(r loadresult.Summary) float64 { return f(r.SignIn.Endpoints[step]) })
		}
		p.Steps[step] = loadresult.Latency{
			Count: int(at(func(l loadresult.Latency) float64 { return float64(l.Count) })),
			P50:   at(func(l loadresult.Latency) float64 { return l.P50 }),
			P95:   at(func(l loadresult.Latency) float64 { return l.P95 }),
			P99:   at(func(l loadresult.Latency) float64 { return l.P99 }),
			Max:   at(func(l loadresult.Latency) float64 { return l.Max }),
			Mean:  at(func(l loadresult.Latency) float64 { return l.Mean }),
		}
	}
	signatures := p.IDTokensPerSignIn * signatureUS
	if p.ServerCPUUS > 0 {
		p.SignatureShare = signatures / p.ServerCPUUS
	}
	p.WithoutSignaturesUS = max(0, p.ServerCPUUS-signatures)
	if unitUS > 0 {
		p.ServerCPUV = p.ServerCPUUS / unitUS
		p.WithoutSignaturesV = p.WithoutSignaturesUS / unitUS
		p.FirstServerCPUV = p.FirstServerCPUUS / unitUS
	}
	return p
}

func find(ps []Point, c int) (Point, bool) {
	for _, p := range ps {
		if p.Concurrency == c {
			return p, true
		}
	}
	return Point{}, false
}

func peak(ps []Point) Point {
	var best Point
	for _, p := range ps {
		if p.SignInsPerS > best.SignInsPerS {
			best = p
		}
	}
	return best
}

func num(m map[string]any, k string) float64 {
	f, _ := m[k].(float64)
	return f
}

func targets(s *Summary) []Target {
	var ts []Target
	sq := s.Sweeps["sqlite"]
	if p, ok := find(sq, 32); ok {
		ts = append(ts,
			Target{Name: "sign-in server CPU per ceremony (SQLite, c=32)", Goal: "<= 4 verifications", Value: p.SignInCPUVerifies,
				Unit: "verifications", Reached: p.SignInCPUVerifies <= 4,
				Note: fmt.Sprintf("%.0f µs per sign-in; one verification %.1f µs", p.SignInCPUUS, s.UnitUS)},
			Target{Name: "registration server CPU per ceremony (SQLite)", Goal: "<= 5 verifications", Value: p.RegisterCPUVerifs,
				Unit: "verifications", Reached: p.RegisterCPUVerifs <= 5,
				Note: fmt.Sprintf("%.0f µs per registration (phase one of the c=32 runs)", p.RegisterCPUUS)},
			Target{Name: "p99 verify-authentication at c=32 (SQLite)", Goal: "< 20 ms", Value: p.VerifyP99, Unit: "ms", Reached: p.VerifyP99 < 20},
			Target{Name: "load tool CPU per sign-in (SQLite, c=32)", Goal: "<= 2 verifications", Value: p.ToolCPUPerSignInUS / s.UnitUS,
				Unit: "verifications", Reached: p.ToolCPUPerSignInUS/s.UnitUS <= 2,
				Note: fmt.Sprintf("%.0f µs per sign-in", p.ToolCPUPerSignInUS)},
		)
	}
	if a, ok := s.Allocations["signin"]; ok {
		r := s.Allocations["register"]
		ts = append(ts, Target{Name: "bytes allocated per passkey sign-in", Goal: "<= 20 KB", Value: a.Bytes / 1024, Unit: "KB",
			Reached: a.Bytes <= 20*1024,
			Note: fmt.Sprintf("%.0f objects per sign-in; a registration %.1f KB in %.0f objects (BenchmarkCeremonyHTTP, through net/http)",
				a.Objects, r.Bytes/1024, r.Objects)})
	}
	if s.Big != nil {
		v := num(s.Big, "server_rss_mb")
		ts = append(ts, Target{Name: "server RSS after 100k users and a 60 s run", Goal: "< 50 MB", Value: v, Unit: "MB", Reached: v < 50,
			Note: fmt.Sprintf("peak %.1f MB", num(s.Big, "server_peak_rss_mb"))})
	}
	if s.Repeat != nil {
		g := num(s.Repeat, "growth_mb")
		ts = append(ts, Target{Name: "RSS growth across repeated runs", Goal: "none (< 5 MB)", Value: g, Unit: "MB", Reached: g < 5,
			Note: fmt.Sprint("RSS after each run: ", s.Repeat["server_rss_mb_after_each"])})
	}
	if pg := s.Sweeps["postgres"]; len(pg) > 0 && len(sq) > 0 {
		a, b := peak(sq), peak(pg)
		ratio := a.SignInsPerS / max(b.SignInsPerS, 1e-9)
		ts = append(ts, Target{Name: "SQLite / PostgreSQL peak sign-ins per second", Goal: "<= 2", Value: ratio, Unit: "x", Reached: ratio <= 2,
			Note: fmt.Sprintf("SQLite %.0f/s at c=%d, PostgreSQL %.0f/s at c=%d", a.SignInsPerS, a.Concurrency, b.SignInsPerS, b.Concurrency)})
	}
	if p, ok := s.AppSignIn["sqlite"]["ES256"]; ok {
		ts = append(ts, Target{Name: "app sign-in server CPU less the ID-token signatures (ES256, SQLite)", Goal: "<= 10 verifications",
			Value: p.WithoutSignaturesV, Unit: "verifications", Reached: p.WithoutSignaturesV <= 10,
			Note: fmt.Sprintf("a session and consent remembered, c=%d: %.0f µs per app sign-in, %.2f signatures of %.1f µs", p.Concurrency, p.ServerCPUUS, p.IDTokensPerSignIn, p.SignatureUS)})
	}
	for _, db := range []string{"sqlite", "postgres2"} {
		if p, ok := s.AppSignIn[db]["RS256"]; ok {
			ts = append(ts, Target{Name: fmt.Sprintf("app sign-in server CPU (RS256, %s)", db), Goal: "reported, with the signature's share",
				Value: p.ServerCPUV, Unit: "verifications", Reached: p.ServerCPUUS > 0,
				Note: fmt.Sprintf("%.0f µs per app sign-in, of which the %.2f RS256 signatures %.0f %% (one: %.0f µs); %.1f verifications without them",
					p.ServerCPUUS, p.IDTokensPerSignIn, 100*p.SignatureShare, p.SignatureUS, p.WithoutSignaturesV)})
		}
	}
	if s.Startup != nil {
		v := num(s.Startup, "median_ms")
		ts = append(ts, Target{Name: "startup to ready with 100k users (SQLite)", Goal: "< 200 ms", Value: v, Unit: "ms", Reached: v < 200})
	}
	return ts
}

// machine describes where the run happened.
func machine() map[string]any {
	m := map[string]any{"nproc": runtime.NumCPU(), "go": runtime.Version(), "goos": runtime.GOOS, "goarch": runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu_model"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m["memory_gib"] = float64(int(kb/1024/1024*10)) / 10
			}
		}
	}
	return m
}

// toolCPUPerCeremonyUS is the load tool's own CPU per ceremony of ph, µs.
func toolCPUPerCeremonyUS(ph loadresult.Phase) float64 {
	return ph.ToolCPUSeconds * 1e6 / max(float64(ph.Ceremonies), 1)
}

// otherCPUShare is the share of the machine's CPU during ph that neither
// the server nor the load tool used (other processes; PostgreSQL's own).
func otherCPUShare(ph loadresult.Phase) float64 {
	if ph.MachineCPUCapacity == 0 {
		return 0
	}
	return max(0, ph.MachineCPUSeconds-ph.ServerCPUSeconds-ph.ToolCPUSeconds) / ph.MachineCPUCapacity
}
