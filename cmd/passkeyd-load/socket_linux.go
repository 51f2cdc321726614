package main

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawSocket reads and writes a TCP connection's non-blocking socket with
// syscall.RawSyscall instead of through the net package, whose
// syscall.Syscall tells the scheduler about each call (entersyscall).
// When the whole process was waiting for the server, as the load tool
// mostly is, that wakes the runtime's monitor thread (a futex call) on
// nearly every read and write: about a sixth of the tool's CPU in its
// profile. A non-blocking socket call never blocks, so nothing needs to
// know; waiting for the socket still goes through the runtime's poller,
// with the connection's deadline (syscall.RawConn).
type rawSocket struct {
	*net.TCPConn
	rc syscall.RawConn
}

// fastSocket returns conn with its reads and writes done by rawSocket, or
// conn itself if it is not TCP.
func fastSocket(conn net.Conn) net.Conn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return conn
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return conn
	}
	return &rawSocket{TCPConn: tc, rc: rc}
}

func (s *rawSocket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if e == syscall.EINTR {
				continue
			}
			n, errno = int(r), e
			return e != syscall.EAGAIN // on EAGAIN, wait until readable and call again
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Addr: s.RemoteAddr(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (s *rawSocket) Write(p []byte) (int, error) {
	written := 0
	var errno syscall.Errno
	err := s.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[written])), uintptr(len(p)-written))
			switch e {
			case 0:
				written += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until writable and call again
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return written, err
	case errno != 0:
		return written, &net.OpError{Op: "write", Net: "tcp", Addr: s.RemoteAddr(), Err: errno}
	}
	return written, nil
}
