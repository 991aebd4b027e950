package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

type parserSpec struct {
	ID   string
	Name string
	Argv func(file string) []string
}

type parseRun struct {
	Input            string    `json:"input"`
	Parser           string    `json:"parser"`
	ParserName       string    `json:"parser_name"`
	Bytes            int64     `json:"bytes"`
	GoroutinesInFile int       `json:"goroutines_in_file"`
	Goroutines       int64     `json:"goroutines"` // what the parser returned
	Lines            int64     `json:"lines,omitempty"`
	Seconds          float64   `json:"seconds"`     // median of the runs, measured in the child
	SecondsAll       []float64 `json:"seconds_all"` // every run
	ProcessSeconds   float64   `json:"process_seconds"`
	MBPerSec         float64   `json:"mb_per_s"`
	GoroutinesPerSec float64   `json:"goroutines_per_s"`
	MaxRSSKB         int64     `json:"maxrss_kb"` // ru_maxrss of the child, max over runs
	Error            string    `json:"error,omitempty"`
}

// childOut is the common subset of bench_stream's and parsedump's JSON line.
type childOut struct {
	Bytes      int64   `json:"bytes"`
	Goroutines int64   `json:"goroutines"`
	Lines      int64   `json:"lines"`
	Seconds    float64 `json:"seconds"`
	Error      string  `json:"error"`
}

func runChild(argv []string) (childOut, int64, float64, error) {
	var out childOut
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0).Seconds()
	var maxrss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxrss = ru.Maxrss // KiB on Linux
		}
	}
	if jerr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &out); jerr != nil {
		if err == nil {
			err = jerr
		}
	}
	if err != nil {
		err = fmt.Errorf("%v: %v: %s", argv, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, maxrss, wall, err
}

func cmdParse(args []string) error {
	fs := flag.NewFlagSet("parse", flag.ExitOnError)
	out := fs.String("o", "parse.json", "output JSON")
	stream := fs.String("stream", "build/bench/bench_stream", "bench_stream binary")
	parsedump := fs.String("parsedump", "build/bench-go/parsedump", "parsedump binary")
	manifest := fs.String("inputs", "build/bench-data/inputs.json", "mkdata manifest")
	reps := fs.Int("reps", 3, "runs per parser and input (one process each)")
	fs.Parse(args)

	var inputs []inputInfo
	data, err := os.ReadFile(*manifest)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &inputs); err != nil {
		return err
	}
	parsers := []parserSpec{
		{"gx-aggregate", "goroutine-exporter: decode + aggregate", func(f string) []string {
			return []string{*stream, "--mode", "aggregate", f}
		}},
		{"gx-decode", "goroutine-exporter: decode only", func(f string) []string {
			return []string{*stream, "--mode", "decode", f}
		}},
		{"gostackparse", "DataDog/gostackparse", func(f string) []string {
			return []string{*parsedump, "-parser", "gostackparse", f}
		}},
		{"panicparse", "maruel/panicparse/v2 stack", func(f string) []string {
			return []string{*parsedump, "-parser", "panicparse", f}
		}},
		{"memchr", "limit: memchr line scan", func(f string) []string {
			return []string{*stream, "--mode", "memchr", f}
		}},
	}
	var runs []parseRun
	for _, in := range inputs {
		if filepath.Ext(in.Name) != ".txt" {
			continue
		}
		for _, p := range parsers {
			r := parseRun{Input: in.Name, Parser: p.ID, ParserName: p.Name, Bytes: in.Bytes, GoroutinesInFile: in.Goroutines}
			var walls []float64
			for i := 0; i < *reps; i++ {
				o, rss, wall, err := runChild(p.Argv(in.Path))
				if err != nil {
					r.Error = err.Error()
					logf("parse %s %s: %v", in.Name, p.ID, err)
					break
				}
				r.SecondsAll = append(r.SecondsAll, o.Seconds)
				walls = append(walls, wall)
				r.Goroutines, r.Lines = o.Goroutines, o.Lines
				if o.Bytes > 0 {
					r.Bytes = o.Bytes
				}
				if rss > r.MaxRSSKB {
					r.MaxRSSKB = rss
				}
			}
			if len(r.SecondsAll) > 0 {
				r.Seconds = median(r.SecondsAll)
				r.ProcessSeconds = median(walls)
				r.MBPerSec = float64(r.Bytes) / r.Seconds / 1e6
				r.GoroutinesPerSec = float64(r.Goroutines) / r.Seconds
				if p.ID == "memchr" {
					r.GoroutinesPerSec = float64(in.Goroutines) / r.Seconds
				}
			}
			logf("parse %-36s %-14s %8.1f MB/s %10.0f gor/s rss %6d KB", in.Name, p.ID, r.MBPerSec, r.GoroutinesPerSec, r.MaxRSSKB)
			runs = append(runs, r)
		}
	}
	return writeJSON(*out, runs)
}
