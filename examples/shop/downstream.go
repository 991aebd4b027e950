package main

// The built-in slow downstream: a TCP server that accepts connections and then never answers
// (-downstream-delay 0, the default) or answers with a canned HTTP response after the delay.
//
// It is deliberately not a net/http server: it holds connections without a goroutine per
// connection (the only goroutine is the accept loop; delayed answers use time.AfterFunc), so
// every goroutine the http_client leak adds to this process is on the client side, where a real
// service would have it.

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

type downstream struct {
	ln    net.Listener
	delay time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	accepted atomic.Int64
	answered atomic.Int64
	done     chan struct{}
}

const downstreamResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
	"Content-Length: 17\r\nConnection: close\r\n\r\n{\"status\":\"late\"}"

func newDownstream(ln net.Listener, delay time.Duration) *downstream {
	return &downstream{ln: ln, delay: delay, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
}

func (d *downstream) serve() {
	defer close(d.done)
	for {
		c, err := d.ln.Accept()
		if err != nil {
			d.mu.Lock()
			closed := d.closed
			d.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: back off and keep going.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			c.Close()
			return
		}
		d.conns[c] = struct{}{}
		d.mu.Unlock()
		d.accepted.Add(1)
		if d.delay > 0 {
			time.AfterFunc(d.delay, func() { d.answer(c) })
		}
	}
}

// answer drains the request (so closing does not reset the connection), writes the canned
// response and closes. Runs in a short-lived timer goroutine, bounded by deadlines.
func (d *downstream) answer(c net.Conn) {
	defer d.forget(c)
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<20))
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, downstreamResponse); err == nil {
		d.answered.Add(1)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<20))
	}
}

func (d *downstream) forget(c net.Conn) {
	d.mu.Lock()
	delete(d.conns, c)
	d.mu.Unlock()
	c.Close()
}

func (d *downstream) held() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// close stops accepting and closes every held connection (which ends the client-side
// goroutines blocked on them).
func (d *downstream) close() {
	d.mu.Lock()
	d.closed = true
	conns := d.conns
	d.conns = map[net.Conn]struct{}{}
	d.mu.Unlock()
	d.ln.Close()
	for c := range conns {
		c.Close()
	}
	<-d.done
}
