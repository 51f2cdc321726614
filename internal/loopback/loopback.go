// Package loopback keeps the traffic of tests and of the load tool on this
// machine.
package loopback

import (
	"fmt"
	"net"
	"syscall"
)

// DialControl is a net.Dialer Control that refuses to connect to any
// address that is not a loopback one. It runs at connect time, on the
// address a name resolved to, so a name that resolves elsewhere is
// refused too.
func DialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}
