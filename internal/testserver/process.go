package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Config says how to run one passkeyd process.
type Config struct {
	Name string    // how messages call it; "passkeyd" if empty
	Bin  string    // the binary; Binary(t) if empty
	Args []string  // its arguments
	Dir  string    // its working directory
	Env  []string  // its whole environment
	Log  io.Writer // where its stdout and stderr go; a new Buffer, Process.Out, if nil
}

// Process is a running (or exited) passkeyd process.
type Process struct {
	Name string  // Config.Name
	Out  *Buffer // what it wrote, when Config.Log was nil

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	err    error         // cmd.Wait's answer, once exited is closed
}

// ErrExited is what WaitOK returns when the process exits before it
// answers; Err says how it exited.
var ErrExited = errors.New("exited")

// Start starts a process as cfg says, failing the test if it cannot. On
// Linux the kernel kills it if the test process dies first (a go test
// -timeout panic, say), when no cleanup runs. Start does not stop it at
// cleanup: Run does, or the caller.
func Start(t testing.TB, cfg Config) *Process {
	t.Helper()
	p := &Process{Name: cfg.Name, exited: make(chan struct{})}
	if p.Name == "" {
		p.Name = "passkeyd"
	}
	if cfg.Bin == "" {
		cfg.Bin = Binary(t)
	}
	if cfg.Log == nil {
		p.Out = &Buffer{}
		cfg.Log = p.Out
	}
	p.cmd = exec.Command(cfg.Bin, cfg.Args...)
	p.cmd.Dir = cfg.Dir
	p.cmd.Env = cfg.Env
	p.cmd.Stdout = cfg.Log
	p.cmd.Stderr = cfg.Log
	dieWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p
}

// Run starts a process as Start does, and stops it when the test ends:
// SIGTERM, then SIGKILL if it is still running after grace. If the test
// failed, what it wrote (Out) is logged.
func Run(t testing.TB, cfg Config, grace time.Duration) *Process {
	t.Helper()
	p := Start(t, cfg)
	t.Cleanup(func() {
		p.Stop(grace)
		if t.Failed() && p.Out != nil {
			t.Logf("%s log:\n%s", p.Name, p.Out.String())
		}
	})
	return p
}

// Exited is closed once the process has exited and been waited for.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process exited (exec.Cmd.Wait's answer), once Exited is
// closed.
func (p *Process) Err() error { return p.err }

// State is the exited process's state, once Exited is closed.
func (p *Process) State() *os.ProcessState { return p.cmd.ProcessState }

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Signal sends sig to the process, unless it has exited. It may be called
// from any goroutine.
func (p *Process) Signal(sig os.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// Stop sends SIGTERM and waits up to grace for the process to exit; then
// sends SIGKILL and waits for it to die. It reports whether the process
// exited within grace (or had exited already).
func (p *Process) Stop(grace time.Duration) bool {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(grace):
		p.Signal(syscall.SIGKILL)
		<-p.exited
		return false
	}
}

// WaitOK polls url until it answers 200, and returns nil then. It returns
// an error wrapping ErrExited if the process exits first, and one naming
// the last failure if url has not answered 200 within timeout.
func (p *Process) WaitOK(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w: %v", ErrExited, p.err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s not 200 after %v (last: %v)", url, timeout, err)
		}
	}
}

// WaitHealthy waits until GET url answers 200, as WaitOK does, and fails
// the test if it does not: the process exited first (its log, Out, is
// in the message), or timeout passed.
func (p *Process) WaitHealthy(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	err := p.WaitOK(url, timeout)
	switch {
	case err == nil:
	case errors.Is(err, ErrExited) && p.Out != nil:
		t.Fatalf("%s exited before it was healthy (%v); log:\n%s", p.Name, p.err, p.Out.String())
	case errors.Is(err, ErrExited):
		t.Fatalf("%s exited before it was healthy: %v", p.Name, p.err)
	default:
		t.Fatalf("%s: %v", p.Name, err)
	}
}

// Buffer collects a process's output from two pipes at once.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
