//go:build !linux

package main

import "net"

// fastSocket returns conn: the raw socket calls of socket_linux.go are
// Linux only.
func fastSocket(conn net.Conn) net.Conn { return conn }
