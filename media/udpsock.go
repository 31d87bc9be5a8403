package media

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpSock is a non-blocking UDP socket that Go's network poller does not
// watch: an RTP leg's sockets are read by the media readers (rxloop), one
// goroutine per CPU over an epoll set of many sockets, so a packet costs
// at most one recvmmsg(2) and no goroutine wake-up, and the runtime's
// poller is not told about packets nobody waits for. Reads and writes
// never block; a write the kernel has no room for is dropped (as a relay
// drops late media). Close waits for reads and writes in progress and later ones get
// net.ErrClosed, so the descriptor is never used once closed (and perhaps
// reused).
type udpSock struct {
	mu    sync.RWMutex // read-held by each read and write; Close takes it
	fd    int          // -1 once closed
	v6    bool         // an AF_INET6 socket (IPv4 peers go as ::ffff:a.b.c.d)
	local *net.UDPAddr
}

// listenUDP binds a UDP socket to ip:port (nil ip: every address, IPv4
// and IPv6; port 0: the kernel chooses).
func listenUDP(ip net.IP, port int) (*udpSock, error) {
	ip4 := ip.To4()
	v6 := ip4 == nil
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	var sa unix.Sockaddr
	if v6 {
		// Dual stack when bound to every address, as net.ListenUDP does.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		s6 := &unix.SockaddrInet6{Port: port}
		if ip != nil {
			copy(s6.Addr[:], ip.To16())
		}
		sa = s6
	} else {
		s4 := &unix.SockaddrInet4{Port: port}
		copy(s4.Addr[:], ip4)
		sa = s4
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", (&net.UDPAddr{IP: ip, Port: port}).String(), err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	local := &net.UDPAddr{}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		local.IP, local.Port = net.IP(append([]byte(nil), a.Addr[:]...)), a.Port
	case *unix.SockaddrInet6:
		local.IP, local.Port = net.IP(append([]byte(nil), a.Addr[:]...)), a.Port
	}
	return &udpSock{fd: fd, v6: v6, local: local}, nil
}

// errBindInUse reports whether listenUDP failed because the port is taken.
func errBindInUse(err error) bool { return errors.Is(err, unix.EADDRINUSE) }

// LocalAddr is the bound address.
func (s *udpSock) LocalAddr() *net.UDPAddr { return s.local }

// readBatch reads up to rxBatchSize waiting datagrams into b with one
// recvmmsg(2) and returns how many; unix.EAGAIN when none is waiting.
func (s *udpSock) readBatch(b *rxBatch) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fd < 0 {
		return 0, net.ErrClosed
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&b.hdr[0])), rxBatchSize,
			unix.MSG_DONTWAIT, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	}
}

// sockDest is a destination made ready for sendto(2) from one socket
// (destFor): built once per remote address, not per packet.
type sockDest struct {
	addr *net.UDPAddr
	sa4  unix.RawSockaddrInet4
	sa6  unix.RawSockaddrInet6
	v6   bool
}

// destFor prepares dst for sending from s.
func (s *udpSock) destFor(dst *net.UDPAddr) (*sockDest, error) {
	if dst == nil {
		return nil, errors.New("media: no destination address")
	}
	d := &sockDest{addr: dst}
	port := uint16(dst.Port)
	if ip4 := dst.IP.To4(); ip4 != nil && !s.v6 {
		d.sa4.Family = unix.AF_INET
		d.sa4.Port = port>>8 | port<<8
		copy(d.sa4.Addr[:], ip4)
	} else if s.v6 && len(dst.IP) > 0 {
		d.v6 = true
		d.sa6.Family = unix.AF_INET6
		d.sa6.Port = port>>8 | port<<8
		copy(d.sa6.Addr[:], dst.IP.To16()) // an IPv4 address comes out v4-mapped
	} else {
		return nil, &net.AddrError{Err: "address family does not match the socket", Addr: dst.String()}
	}
	return d, nil
}

// WriteToUDP sends b to dst without blocking.
func (s *udpSock) WriteToUDP(b []byte, dst *net.UDPAddr) (int, error) {
	d, err := s.destFor(dst)
	if err != nil {
		return 0, err
	}
	return s.writeTo(b, d)
}

// writeTo sends b to d (from destFor on s) without blocking.
func (s *udpSock) writeTo(b []byte, d *sockDest) (int, error) {
	sa, sl := unsafe.Pointer(&d.sa4), uintptr(unix.SizeofSockaddrInet4)
	if d.v6 {
		sa, sl = unsafe.Pointer(&d.sa6), unix.SizeofSockaddrInet6
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fd < 0 {
		return 0, net.ErrClosed
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
			unix.MSG_DONTWAIT, uintptr(sa), sl)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, &net.OpError{Op: "write", Net: "udp", Addr: d.addr, Err: errno}
		}
		return int(n), nil
	}
}

// Close closes the socket once reads and writes in progress are done.
func (s *udpSock) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fd < 0 {
		return net.ErrClosed
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}
