// Command stalltarget is the target of the "cost to the target" benchmark: a Go service with
// N parked goroutines that measures the longest scheduling delay its own goroutines see while
// something fetches its goroutine profiles. Build it with GOEXPERIMENT=goroutineleakprofile
// (Go 1.26) or Go >= 1.27 so that /debug/pprof/goroutineleak exists.
//
// A monitor goroutine sleeps -tick (1 ms) in a loop and records the gap between wake-ups; a
// stop-the-world pause or a starved scheduler shows up as a long gap. Endpoints (127.0.0.1):
//
//	/debug/pprof/...        net/http/pprof; every request is counted per path and debug=
//	/bench/stall            JSON: gaps since the last call (max, p99, count > 10/100 ms), and the
//	                        GC cycles and heap bytes the process allocated since then; resets
//	/bench/counts           JSON: requests answered per "path?debug=N"
//
// Goroutines, in rotation over 8 kinds at recursion depths 1-10 (80 distinct stacks): a
// receive, a send, a 2-case select and a WaitGroup.Wait on objects nobody else can reach (the
// leak-detecting GC reports these), a receive on a global channel, a Mutex.Lock and a
// Cond.Wait on globals, and a time.Sleep loop.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"time"
)

var (
	globalCh   = make(chan int)
	globalMu   sync.Mutex
	globalCond = sync.NewCond(&sync.Mutex{})
	started    sync.WaitGroup
)

//go:noinline
func deep(d int, f func()) {
	if d <= 0 {
		f()
		return
	}
	deep(d-1, f)
}

func spawn(i int) {
	depth := 1 + (i/8)%10
	started.Add(1)
	switch i % 8 {
	case 0:
		ch := make(chan int)
		go deep(depth, func() { started.Done(); <-ch })
	case 1:
		ch := make(chan int)
		go deep(depth, func() { started.Done(); ch <- 1 })
	case 2:
		a, b := make(chan int), make(chan int)
		go deep(depth, func() {
			started.Done()
			select {
			case <-a:
			case <-b:
			}
		})
	case 3:
		var wg sync.WaitGroup
		wg.Add(1)
		go deep(depth, func() { started.Done(); wg.Wait() })
	case 4:
		go deep(depth, func() { started.Done(); <-globalCh })
	case 5:
		go deep(depth, func() { started.Done(); globalMu.Lock() })
	case 6:
		go deep(depth, func() {
			globalCond.L.Lock()
			started.Done()
			for {
				globalCond.Wait()
			}
		})
	case 7:
		go deep(depth, func() {
			started.Done()
			for {
				time.Sleep(24 * time.Hour)
			}
		})
	}
}

type stallMonitor struct {
	mu   sync.Mutex
	gaps []float64 // ms between wake-ups, since the last reset
	tick time.Duration
	// GC cycles and heap bytes allocated at the last reset: a profile fetch allocates in the
	// target (the runtime's per-goroutine stack records), which can start a GC cycle.
	gcAtReset, allocAtReset uint64
}

// gcCounters reads the process's completed GC cycles and cumulative heap allocation.
func gcCounters() (cycles, allocBytes uint64) {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func (m *stallMonitor) run() {
	prev := time.Now()
	for {
		time.Sleep(m.tick)
		now := time.Now()
		gap := now.Sub(prev).Seconds() * 1000
		prev = now
		m.mu.Lock()
		if len(m.gaps) < 1<<20 {
			m.gaps = append(m.gaps, gap)
		}
		m.mu.Unlock()
	}
}

func (m *stallMonitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cycles, alloc := gcCounters()
	m.mu.Lock()
	gaps := m.gaps
	m.gaps = nil
	gcSince, allocSince := cycles-m.gcAtReset, alloc-m.allocAtReset
	m.gcAtReset, m.allocAtReset = cycles, alloc
	m.mu.Unlock()
	sort.Float64s(gaps)
	out := map[string]any{"samples": len(gaps), "tick_ms": m.tick.Seconds() * 1000,
		"gc_cycles": gcSince, "heap_alloc_bytes": allocSince}
	if n := len(gaps); n > 0 {
		out["max_gap_ms"] = gaps[n-1]
		out["p99_gap_ms"] = gaps[min(n-1, n*99/100)]
		out["p50_gap_ms"] = gaps[n/2]
		over10, over100 := 0, 0
		for _, g := range gaps {
			if g > 10 {
				over10++
			}
			if g > 100 {
				over100++
			}
		}
		out["over_10ms"], out["over_100ms"] = over10, over100
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

type counter struct {
	mu     sync.Mutex
	counts map[string]int
	next   http.Handler
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) > len("/debug/pprof/") && r.URL.Path[:len("/debug/pprof/")] == "/debug/pprof/" {
		d := r.URL.Query().Get("debug")
		if d == "" {
			d = "0"
		}
		c.mu.Lock()
		c.counts[r.URL.Path+"?debug="+d]++
		c.mu.Unlock()
	}
	c.next.ServeHTTP(w, r)
}

func main() {
	n := flag.Int("goroutines", 1000, "parked goroutines to start")
	listen := flag.String("listen", "127.0.0.1:0", "listen address (loopback)")
	tick := flag.Duration("tick", time.Millisecond, "monitor sleep")
	flag.Parse()
	globalMu.Lock() // held forever: kind 5 waits on it
	for i := 0; i < *n; i++ {
		spawn(i)
	}
	started.Wait()
	time.Sleep(100 * time.Millisecond)
	runtime.GC()

	mon := &stallMonitor{tick: *tick}
	mon.gcAtReset, mon.allocAtReset = gcCounters()
	go mon.run()
	cnt := &counter{counts: map[string]int{}, next: http.DefaultServeMux}
	http.Handle("/bench/stall", mon)
	http.HandleFunc("/bench/counts", func(w http.ResponseWriter, r *http.Request) {
		cnt.mu.Lock()
		defer cnt.mu.Unlock()
		json.NewEncoder(w).Encode(cnt.counts)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s goroutines=%d go=%s\n", ln.Addr(), runtime.NumGoroutine(), runtime.Version())
	srv := &http.Server{Handler: cnt, ReadHeaderTimeout: 10 * time.Second}
	srv.Serve(ln)
}
