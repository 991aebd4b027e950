package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
)

type debug0Result struct {
	Name         string  `json:"name"`
	Path         string  `json:"path"`
	BodyBytes    int     `json:"body_bytes"`
	Goroutines   int64   `json:"goroutines"`
	Samples      int     `json:"samples"`
	Stacks       int     `json:"stacks"`
	Iterations   int     `json:"iterations"`
	WallNsPerOp  float64 `json:"wall_ns_per_op"`
	CPUNsPerOp   float64 `json:"cpu_ns_per_op"` // process CPU (includes the GC's other threads)
	AllocsPerOp  float64 `json:"allocs_per_op"`
	BytesAllocOp float64 `json:"bytes_alloc_per_op"`
}

// parseAndAggregate is the Go peer of AnalyzeBody: github.com/google/pprof/profile.Parse
// (gunzip + protobuf decode + the library's post-decode checks), then goroutines summed per
// distinct stack of function names (leaf first, inlined frames included).
func parseAndAggregate(body []byte) (map[string]int64, *profile.Profile, error) {
	p, err := profile.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	agg := make(map[string]int64, len(p.Sample))
	var sb strings.Builder
	for _, s := range p.Sample {
		sb.Reset()
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil {
					sb.WriteString(ln.Function.Name)
				}
				sb.WriteByte('\n')
			}
		}
		if len(s.Value) > 0 {
			agg[sb.String()] += s.Value[0]
		}
	}
	return agg, p, nil
}

// describeProfile summarizes a debug=0 body for table captions: goroutines, stacks, size.
func describeProfile(name string, body []byte) string {
	agg, _, err := parseAndAggregate(body)
	if err != nil {
		return fmt.Sprintf("%s (%d bytes, unreadable: %v)", name, len(body), err)
	}
	var total int64
	for _, v := range agg {
		total += v
	}
	return fmt.Sprintf("%s: %s goroutines, %s stacks", name, commas(fmt.Sprint(total)), commas(fmt.Sprint(len(agg))))
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cmdDebug0(args []string) error {
	fs := flag.NewFlagSet("debug0", flag.ExitOnError)
	out := fs.String("o", "debug0_go.json", "output JSON")
	minTime := fs.Duration("mintime", 100*time.Millisecond, "minimum time of one timed run")
	reps := fs.Int("reps", 3, "timed runs per input (the median is reported)")
	fs.Parse(args)
	var results []debug0Result
	for _, spec := range fs.Args() {
		name, path, ok := strings.Cut(spec, "=")
		if !ok {
			return fmt.Errorf("want NAME=PATH, got %q", spec)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		agg, p, err := parseAndAggregate(body)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		r := debug0Result{Name: name, Path: path, BodyBytes: len(body), Samples: len(p.Sample), Stacks: len(agg)}
		for _, v := range agg {
			r.Goroutines += v
		}
		// Grow the iteration count until one timed run lasts at least minTime, then take the
		// median of `reps` such runs.
		n := 1
		for {
			t0 := time.Now()
			for i := 0; i < n; i++ {
				parseAndAggregate(body)
			}
			if time.Since(t0) >= *minTime || n >= 1<<24 {
				break
			}
			n *= 2
		}
		var walls, cpus, allocs, allocBytes []float64
		for rep := 0; rep < *reps; rep++ {
			runtime.GC()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := processCPU()
			t0 := time.Now()
			for i := 0; i < n; i++ {
				if _, _, err := parseAndAggregate(body); err != nil {
					return err
				}
			}
			wall := time.Since(t0)
			cpu := processCPU() - cpu0
			runtime.ReadMemStats(&ms1)
			walls = append(walls, float64(wall.Nanoseconds())/float64(n))
			cpus = append(cpus, float64(cpu.Nanoseconds())/float64(n))
			allocs = append(allocs, float64(ms1.Mallocs-ms0.Mallocs)/float64(n))
			allocBytes = append(allocBytes, float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(n))
		}
		r.Iterations = n
		r.WallNsPerOp, r.CPUNsPerOp = median(walls), median(cpus)
		r.AllocsPerOp, r.BytesAllocOp = median(allocs), median(allocBytes)
		logf("debug0 %s: %.1f us/op wall, %.1f us/op cpu (%d iterations)", name, r.WallNsPerOp/1e3, r.CPUNsPerOp/1e3, r.Iterations)
		results = append(results, r)
	}
	return writeJSON(*out, results)
}
