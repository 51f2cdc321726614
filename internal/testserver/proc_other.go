//go:build !linux

package testserver

import "os/exec"

func dieWithTest(*exec.Cmd) {}
