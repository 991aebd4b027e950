package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// profileSet is what one class of farm targets serves. A nil body answers 404.
type profileSet struct {
	Name   string
	Debug0 []byte
	Debug2 []byte
	Leak0  []byte
}

// farm serves captured profiles on many loopback ports, as net/http/pprof would, and counts
// the requests it answered per format.
type farm struct {
	servers []*http.Server
	addrs   []string
	debug0  atomic.Int64
	debug1  atomic.Int64
	debug2  atomic.Int64
	leak    atomic.Int64
	other   atomic.Int64
}

func newFarm(ports int, set profileSet) (*farm, error) {
	f := &farm{}
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, body []byte, gz bool) {
		if body == nil {
			http.NotFound(w, nil)
			return
		}
		if gz {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", `attachment; filename="goroutine"`)
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
	mux.HandleFunc("/debug/pprof/goroutine", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("debug") {
		case "", "0":
			f.debug0.Add(1)
			serve(w, set.Debug0, true)
		case "1":
			f.debug1.Add(1)
			http.NotFound(w, r)
		case "2":
			f.debug2.Add(1)
			serve(w, set.Debug2, false)
		default:
			f.other.Add(1)
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("/debug/pprof/goroutineleak", func(w http.ResponseWriter, r *http.Request) {
		f.leak.Add(1)
		serve(w, set.Leak0, true)
	})
	for i := 0; i < ports; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("farm listener %d: %v", i, err)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second,
			ErrorLog: nil}
		f.servers = append(f.servers, srv)
		f.addrs = append(f.addrs, ln.Addr().String())
		go srv.Serve(ln)
	}
	return f, nil
}

func (f *farm) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range f.servers {
		s.Shutdown(ctx)
	}
}

func (f *farm) counts() map[string]int64 {
	return map[string]int64{"debug0": f.debug0.Load(), "debug1": f.debug1.Load(), "debug2": f.debug2.Load(),
		"goroutineleak": f.leak.Load(), "other": f.other.Load()}
}

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return b
}
