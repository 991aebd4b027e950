package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// config is everything the flags set.
type config struct {
	listen           string
	pprofListen      string
	downstreamListen string
	downstreamDelay  time.Duration // 0: never answer
	leaks            map[string]float64
	maxLeaked        int64
	tickerInterval   time.Duration
	sleepInterval    time.Duration
	leakLabel        bool
	logger           *slog.Logger
}

func defaultConfig() config {
	return config{
		listen:           "127.0.0.1:0",
		pprofListen:      "127.0.0.1:0",
		downstreamListen: "127.0.0.1:0",
		maxLeaked:        200000,
		tickerInterval:   10 * time.Second,
		sleepInterval:    10 * time.Second,
		leakLabel:        true,
		leaks:            map[string]float64{},
	}
}

// app is one running shop service: API server, pprof server, slow downstream, leak spawners.
type app struct {
	cfg    config
	log    *slog.Logger
	reg    *prometheus.Registry
	leaks  *leakManager
	down   *downstream
	api    *http.Server
	pprof  *http.Server
	apiLn  net.Listener
	pprLn  net.Listener
	downLn net.Listener

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	burstActive  atomic.Int64
	burstStarted atomic.Int64

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// start opens the three listeners, prints one "<name> listening on ADDR" line per listener to
// out, starts serving, and then turns on the startup leaks.
func start(cfg config, out io.Writer) (*app, error) {
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.maxLeaked < 0 {
		return nil, fmt.Errorf("-max-leaked must be >= 0")
	}
	if cfg.tickerInterval <= 0 || cfg.sleepInterval <= 0 {
		return nil, fmt.Errorf("-ticker-interval and -sleep-interval must be > 0")
	}
	a := &app{cfg: cfg, log: cfg.logger}
	var err error
	if a.downLn, err = net.Listen("tcp", cfg.downstreamListen); err != nil {
		return nil, fmt.Errorf("downstream listen: %w", err)
	}
	if a.pprLn, err = net.Listen("tcp", cfg.pprofListen); err != nil {
		a.downLn.Close()
		return nil, fmt.Errorf("pprof listen: %w", err)
	}
	if a.apiLn, err = net.Listen("tcp", cfg.listen); err != nil {
		a.downLn.Close()
		a.pprLn.Close()
		return nil, fmt.Errorf("api listen: %w", err)
	}

	a.down = newDownstream(a.downLn, cfg.downstreamDelay)
	a.leaks = newLeakManager(cfg, "http://"+a.downLn.Addr().String())
	a.initMetrics()

	a.api = &http.Server{
		Handler:           a.apiMux(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       90 * time.Second,
	}
	a.pprof = &http.Server{
		Handler:           pprofMux(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       90 * time.Second,
	}

	fmt.Fprintf(out, "api listening on %s\n", a.apiLn.Addr())
	fmt.Fprintf(out, "pprof listening on %s\n", a.pprLn.Addr())
	fmt.Fprintf(out, "downstream listening on %s\n", a.downLn.Addr())

	a.wg.Add(3)
	go func() { defer a.wg.Done(); a.down.serve() }()
	go func() { defer a.wg.Done(); _ = a.pprof.Serve(a.pprLn) }()
	go func() { defer a.wg.Done(); _ = a.api.Serve(a.apiLn) }()

	for _, name := range sortedKeys(cfg.leaks) {
		if err := a.leaks.setRate(name, cfg.leaks[name], "", ""); err != nil {
			a.close()
			return nil, err
		}
		a.log.Info("leak enabled", "kind", name, "rate", cfg.leaks[name])
	}
	return a, nil
}

// pprofMux registers the net/http/pprof handlers on their own mux (never on the API listener).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index) // also serves goroutine, heap, goroutineleak...
	mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/debug/pprof/", http.StatusFound)
	})
	return mux
}

func (a *app) initMetrics() {
	a.reg = prometheus.NewRegistry()
	a.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	a.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests served, by route and status code.",
	}, []string{"route", "code"})
	a.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "HTTP request latency, by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	a.reg.MustRegister(a.requests, a.duration)

	// Ground truth for dashboards and end-to-end tests of the exporter.
	for i := range leakKinds {
		k := &leakKinds[i]
		st := a.leaks.kinds[k.name]
		lbl := prometheus.Labels{"kind": k.name, "category": k.category}
		a.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "shop_leaked_goroutines", Help: "Goroutines currently leaked by the leak switch, by kind.", ConstLabels: lbl,
			}, func() float64 { return float64(st.leaked.Load() * k.perEvent) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "shop_leak_events_total", Help: "Leak events started, by kind.", ConstLabels: lbl,
			}, func() float64 { return float64(st.started.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "shop_leak_rate", Help: "Configured leak events per second, by kind.", ConstLabels: lbl,
			}, func() float64 {
				a.leaks.mu.Lock()
				defer a.leaks.mu.Unlock()
				return st.rate
			}),
		)
	}
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shop_burst_goroutines", Help: "Short-lived burst goroutines currently running.",
	}, func() float64 { return float64(a.burstActive.Load()) }))
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shop_downstream_held_connections", Help: "Connections the slow downstream holds without answering.",
	}, func() float64 { return float64(a.down.held()) }))
}

func (a *app) metricsHandler() http.Handler {
	return promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})
}

func (a *app) apiAddr() string        { return a.apiLn.Addr().String() }
func (a *app) pprofAddr() string      { return a.pprLn.Addr().String() }
func (a *app) downstreamAddr() string { return a.downLn.Addr().String() }

// close stops the spawners and the servers. Leaked goroutines that block on channels, locks
// and semaphores stay blocked (that is the point); http_client leaks end because the downstream
// closes their connections.
func (a *app) close() {
	a.closeOnce.Do(func() {
		a.leaks.stopAll()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.api.Shutdown(ctx)
		_ = a.pprof.Shutdown(ctx)
		a.down.close()
		a.leaks.client.CloseIdleConnections()
		a.wg.Wait()
	})
}
