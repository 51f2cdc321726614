package testserver

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill the process if the test process dies
// first (a go test -timeout panic, say), when no cleanup runs.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
