// Command shop is an example Go backend for goroutine-exporter: a small HTTP API with
// Prometheus metrics, net/http/pprof on a separate loopback listener, a built-in slow downstream,
// and switches that make it leak goroutines in the ways real services do.
//
// See README.md for flags, endpoints and the leak kinds.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("shop", flag.ExitOnError)
	fs.StringVar(&cfg.listen, "listen", cfg.listen, "public HTTP API listen address")
	fs.StringVar(&cfg.pprofListen, "pprof-listen", cfg.pprofListen, "net/http/pprof listen address (keep it on loopback)")
	fs.StringVar(&cfg.downstreamListen, "downstream-listen", cfg.downstreamListen, "built-in slow downstream listen address")
	fs.DurationVar(&cfg.downstreamDelay, "downstream-delay", 0, "downstream answers after this delay; 0 = never answers")
	leakSpec := fs.String("leak", "", "leaks to start with, kind=rate[,kind=rate...] (rate per second)")
	fs.Int64Var(&cfg.maxLeaked, "max-leaked", cfg.maxLeaked, "safety cap on leaked goroutines, all kinds together")
	fs.DurationVar(&cfg.tickerInterval, "ticker-interval", cfg.tickerInterval, "period of each leaked ticker_loop goroutine")
	fs.DurationVar(&cfg.sleepInterval, "sleep-interval", cfg.sleepInterval, "sleep of each leaked sleep_loop goroutine")
	fs.BoolVar(&cfg.leakLabel, "leak-label", cfg.leakLabel, "add the pprof label leak_kind=<kind> to leaked goroutines (ground truth)")
	logLevel := fs.String("log.level", "info", "log level: debug, info, warn, error")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "shop: unexpected arguments: %v\n", fs.Args())
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "shop: -log.level: %v\n", err)
		os.Exit(2)
	}
	cfg.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	leaks, err := parseLeakSpec(*leakSpec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shop: -leak: %v\n", err)
		os.Exit(2)
	}
	cfg.leaks = leaks

	a, err := start(cfg, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shop: %v\n", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	s := <-sig
	cfg.logger.Info("shutting down", "signal", s.String())
	a.close()
}
