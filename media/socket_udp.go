package media

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpSock is a bound, non-blocking UDP socket that Go's netpoller never
// sees: the engine's read loops wait for it with epoll (see [pollLoop]), so
// a packet costs no goroutine wake-up and no read that fails with EAGAIN.
// Reads and sends hold mu for reading, so close cannot close the descriptor
// (and the kernel hand its number to another socket) under them. Both are
// non-blocking system calls and use RawSyscall6: no scheduler hand-off.
type udpSock struct {
	mu   sync.RWMutex
	fd   int // -1 once closed
	port int
}

// rawFrom is where recvFrom puts the sender's address; its owner (a read
// loop) keeps one, so a read allocates nothing.
type rawFrom struct {
	sa  unix.RawSockaddrAny
	len uint32
}

// bindUDP binds a UDP socket of addr's family on addr (port 0: any free one).
func bindUDP(addr netip.AddrPort) (*udpSock, error) {
	var family int
	var sa unix.Sockaddr
	if a := addr.Addr(); a.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Addr: a.As4(), Port: int(addr.Port())}
	} else {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Addr: a.As16(), Port: int(addr.Port())}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if family == unix.AF_INET6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1) // as net's "udp6"
	}
	if err == nil {
		err = os.NewSyscallError("bind", unix.Bind(fd, sa))
	}
	var local unix.Sockaddr
	if err == nil {
		local, err = unix.Getsockname(fd)
	}
	if err != nil {
		unix.Close(fd)
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr), Err: err}
	}
	u := &udpSock{fd: fd}
	switch la := local.(type) {
	case *unix.SockaddrInet4:
		u.port = la.Port
	case *unix.SockaddrInet6:
		u.port = la.Port
	}
	return u, nil
}

// close closes the socket once no read or send uses it.
func (u *udpSock) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fd < 0 {
		return nil
	}
	err := unix.Close(u.fd)
	u.fd = -1
	return os.NewSyscallError("close", err)
}

// recvFrom reads one waiting datagram into buf; unix.EAGAIN when none waits.
func (u *udpSock) recvFrom(buf []byte, from *rawFrom) (int, netip.AddrPort, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if u.fd < 0 {
		return 0, netip.AddrPort{}, net.ErrClosed
	}
	from.len = unix.SizeofSockaddrAny
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(u.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		0, uintptr(unsafe.Pointer(&from.sa)), uintptr(unsafe.Pointer(&from.len)))
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	return int(n), from.addrPort(), nil
}

func (f *rawFrom) addrPort() netip.AddrPort {
	switch f.sa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&f.sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), ntohs(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&f.sa))
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 { // link-local: keep the interface to answer on (allocates; rare)
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, ntohs(sa.Port))
	}
	return netip.AddrPort{}
}

// sendTo sends b to to; a full send buffer drops the packet (unix.EAGAIN)
// rather than stall the read loop that relays it.
func (u *udpSock) sendTo(b []byte, to netip.AddrPort) (int, error) {
	var sa unix.RawSockaddrInet6 // large enough for either family
	size := uintptr(unix.SizeofSockaddrInet6)
	if a := to.Addr(); a.Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa))
		sa4.Family, sa4.Port, sa4.Addr = unix.AF_INET, htons(to.Port()), a.As4()
		size = unix.SizeofSockaddrInet4
	} else {
		sa.Family, sa.Port, sa.Addr = unix.AF_INET6, htons(to.Port()), a.As16()
		if z := a.Zone(); z != "" {
			sa.Scope_id = zoneIndex(z)
		}
	}
	u.mu.RLock()
	defer u.mu.RUnlock()
	if u.fd < 0 {
		return 0, net.ErrClosed
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(u.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		0, uintptr(unsafe.Pointer(&sa)), size)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// zoneIndex is the interface index of an IPv6 zone: numeric as recvFrom
// writes it, or an interface name.
func zoneIndex(zone string) uint32 {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// htons and ntohs convert a port to and from network byte order as it
// sits in a raw sockaddr's uint16.
func htons(port uint16) uint16 {
	var b [2]byte
	b[0], b[1] = byte(port>>8), byte(port)
	return *(*uint16)(unsafe.Pointer(&b))
}

func ntohs(raw uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&raw))
	return uint16(b[0])<<8 | uint16(b[1])
}
