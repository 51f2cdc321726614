package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd/internal/loadresult"
)

// summarize returns the percentiles of ds (nearest rank), in milliseconds.
func summarize(ds []time.Duration) loadresult.Latency {
	if len(ds) == 0 {
		return loadresult.Latency{}
	}
	slices.Sort(ds)
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1 // ceil(p·n) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return loadresult.Latency{
		Count: len(ds),
		P50:   ms(rank(0.50)),
		P95:   ms(rank(0.95)),
		P99:   ms(rank(0.99)),
		Max:   ms(ds[len(ds)-1]),
		Mean:  ms(total / time.Duration(len(ds))),
	}
}

// writeReport prints the human-readable report.
func writeReport(w io.Writer, s *loadresult.Summary) {
	fmt.Fprintf(w, "target %s, origin %s, %d CPUs here\n", s.Target, s.Origin, s.NumCPU)
	fmt.Fprintf(w, "\nphase 1, registration: %d users at concurrency %d\n", s.Users, s.RegisterConcurrency)
	writePhase(w, s.Register, "registrations", []string{epRegisterOptions, epRegisterVerify})
	warnToolBusy(w, s.Register, s.ToolProcs)
	if s.AppFirst != nil {
		alg := ""
		if s.App != nil {
			alg = fmt.Sprintf(" (client %s, ID token %s)", s.App.ClientID, s.App.IDTokenAlg)
		}
		fmt.Fprintf(w, "\nphase 1b, first app sign-in%s: passkey and consent, concurrency %d\n", alg, s.RegisterConcurrency)
		writePhase(w, *s.AppFirst, "app sign-ins", appSteps)
		warnToolBusy(w, *s.AppFirst, s.ToolProcs)
		fmt.Fprintf(w, "\nphase 2, app sign-in with a session and consent remembered: concurrency %d over %d users\n", s.Concurrency, s.Register.Ceremonies)
		writePhase(w, s.SignIn, "app sign-ins", appSteps)
		if s.App != nil {
			fmt.Fprintf(w, "  ID tokens signed per app sign-in: %.2f\n", s.App.IDTokensPerSignIn)
		}
	} else {
		fmt.Fprintf(w, "\nphase 2, sign-in (%s): concurrency %d over %d users\n", s.Mode, s.Concurrency, s.Register.Ceremonies)
		writePhase(w, s.SignIn, "sign-ins", []string{epSignInOptions, epSignInVerify})
	}
	warnToolBusy(w, s.SignIn, s.ToolProcs)
	if len(s.ServerPIDs) > 1 {
		fmt.Fprintf(w, "\nserver pids %v together: RSS %.1f MB at the end, peaks %.1f MB\n", s.ServerPIDs, float64(s.ServerRSSKB)/1024, float64(s.ServerMaxRSSKB)/1024)
	} else if s.ServerPID > 0 {
		fmt.Fprintf(w, "\nserver pid %d: RSS %.1f MB at the end, peak %.1f MB\n", s.ServerPID, float64(s.ServerRSSKB)/1024, float64(s.ServerMaxRSSKB)/1024)
	}
	fmt.Fprintln(w)
}

// warnToolBusy says so when the tool used most of the CPUs it may run on
// (-procs) in a phase: then it, not the server, may have set the pace.
func warnToolBusy(w io.Writer, p loadresult.Phase, procs int) {
	if procs <= 0 || p.Seconds <= 0 {
		return
	}
	if busy := p.ToolCPUSeconds / (p.Seconds * float64(procs)); busy > 0.8 {
		fmt.Fprintf(w, "  warning: this tool was busy %.0f %% of the time on its %d CPUs (-procs): it may have been the bottleneck\n", 100*busy, procs)
	}
}

func writePhase(w io.Writer, p loadresult.Phase, what string, endpoints []string) {
	fmt.Fprintf(w, "  %d %s in %.2fs = %.1f/s, %d failed\n", p.Ceremonies, what, p.Seconds, p.PerSecond, p.Failed)
	if p.ServerCPUSeconds > 0 {
		fmt.Fprintf(w, "  server CPU %.2fs = %.0f µs per ceremony; this tool's CPU %.2fs\n", p.ServerCPUSeconds, p.ServerCPUPerCeremonyUS, p.ToolCPUSeconds)
	} else {
		fmt.Fprintf(w, "  this tool's CPU %.2fs\n", p.ToolCPUSeconds)
	}
	if p.MachineCPUCapacity > 0 {
		other := p.MachineCPUSeconds - p.ServerCPUSeconds - p.ToolCPUSeconds
		fmt.Fprintf(w, "  machine: %.2f of %.2f CPU seconds busy; %.2fs by other processes\n", p.MachineCPUSeconds, p.MachineCPUCapacity, max(other, 0))
	}
	fmt.Fprintf(w, "  %-32s %8s %9s %9s %9s %9s\n", "endpoint", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, ep := range endpoints {
		l, ok := p.Endpoints[ep]
		if !ok {
			continue // a step this phase never took (consent once remembered)
		}
		fmt.Fprintf(w, "  %-32s %8d %9.2f %9.2f %9.2f %9.2f\n", ep, l.Count, l.P50, l.P95, l.P99, l.Max)
	}
	if len(p.Errors) == 0 {
		fmt.Fprintf(w, "  errors: none\n")
		return
	}
	keys := make([]string, 0, len(p.Errors))
	for k := range p.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  errors: %s: %d\n", k, p.Errors[k])
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU returns the user+system CPU time a process has used, from
// /proc/PID/stat (fields 14 and 15, counted after the parenthesised
// command name, which may itself contain spaces).
func procCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procStatusKB returns a kB field of /proc/PID/status, such as VmRSS.
func procStatusKB(pid int, field string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// machineBusy returns the CPU time all CPUs of the machine spent on
// anything but idling (and waiting for I/O), from the first line of
// /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	var busy int64
	// user nice system idle iowait irq softirq steal ...
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}
