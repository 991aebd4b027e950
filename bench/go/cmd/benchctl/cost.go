package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type stallStats struct {
	Samples   int     `json:"samples"`
	MaxGapMs  float64 `json:"max_gap_ms"`
	P99GapMs  float64 `json:"p99_gap_ms"`
	P50GapMs  float64 `json:"p50_gap_ms"`
	Over10ms  int     `json:"over_10ms"`
	Over100ms int     `json:"over_100ms"`
	// In the target between the monitor's resets: completed GC cycles and heap bytes allocated.
	GCCycles       uint64 `json:"gc_cycles"`
	HeapAllocBytes uint64 `json:"heap_alloc_bytes"`
}

type costFetch struct {
	Rep      int            `json:"rep"`
	Seconds  float64        `json:"seconds"`
	Bytes    int            `json:"bytes"`
	Status   int            `json:"status"`
	Stall    stallStats     `json:"stall"`
	Requests map[string]int `json:"requests"` // at the target during this fetch
}

type costPhase struct {
	Phase      string      `json:"phase"`
	Label      string      `json:"label"`
	Fetches    []costFetch `json:"fetches"`
	MaxStallMs float64     `json:"max_stall_ms"`    // worst over reps (gap minus the tick)
	MedStallMs float64     `json:"median_stall_ms"` // median over reps of each rep's max
	MedSeconds float64     `json:"median_seconds"`
	Bytes      int         `json:"bytes"`
	Requests   string      `json:"requests"`           // what the target saw, summed over reps
	GCFetches  int         `json:"gc_fetches"`         // fetches during which the target ran a GC cycle
	MedAlloc   float64     `json:"median_alloc_bytes"` // target heap allocated per fetch, median
	StallsMs   []float64   `json:"stalls_ms"`          // each fetch's worst gap minus the tick
}

type costTarget struct {
	Goroutines      int         `json:"goroutines"` // requested
	Total           int         `json:"total"`      // runtime.NumGoroutine at start
	GoVersion       string      `json:"go_version"`
	Phases          []costPhase `json:"phases"`
	Debug2Cap       int         `json:"debug2_cap"`
	LeakCap         int         `json:"leak_cap"`
	ProbeDebug2     int         `json:"probe_debug2_requests"`
	ProbeLeak       int         `json:"probe_leak_requests"`
	ProbeDebug0     int         `json:"probe_debug0_requests"`
	Probes          int         `json:"probes"`
	ExpectDebug2    bool        `json:"expect_debug2"`
	ExpectLeak      bool        `json:"expect_leak"`
	PlannerRespects bool        `json:"planner_respects_caps"`
	// The exporter's default plan (first and later probes together): median of each probe's
	// worst stall; and the same for direct debug=0 fetches from a copy of the target whose GC
	// is off (GOGC=off), which separates the profile's own cost from the GC cycle its
	// allocations start.
	DefaultPlanMedStallMs float64 `json:"default_plan_median_stall_ms"`
	DefaultPlanMaxStallMs float64 `json:"default_plan_max_stall_ms"`
	Debug0GCOffMedStallMs float64 `json:"debug0_gc_off_median_stall_ms"`
	// Heap the target allocates per goroutine to answer one debug=0 fetch (median fetch).
	Debug0AllocPerGoroutine float64 `json:"debug0_alloc_per_goroutine"`
}

var (
	targetListenRE = regexp.MustCompile(`listening on (\S+)`)
	probeTotalRE   = regexp.MustCompile(`(?m)^goroutine_goroutines(?:\{[^}]*\})? (\d+)`)
	goVersionRE    = regexp.MustCompile(`go=(\S+)`)
)

func targetGoVersion(line string) string {
	if m := goVersionRE.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return "unknown"
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func fetchAll(client *http.Client, u string) (int, int, float64, error) {
	t0 := time.Now()
	resp, err := client.Get(u)
	if err != nil {
		return 0, 0, 0, err
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, int(n), time.Since(t0).Seconds(), nil
}

func diffCounts(before, after map[string]int) map[string]int {
	d := map[string]int{}
	for k, v := range after {
		if v-before[k] != 0 {
			d[k] = v - before[k]
		}
	}
	return d
}

func cmdCost(args []string) error {
	fs := flag.NewFlagSet("cost", flag.ExitOnError)
	out := fs.String("o", "cost.json", "output JSON")
	exporterBin := fs.String("exporter", "build/exporter/goroutine_exporter", "exporter binary")
	targetBin := fs.String("target", "build/bench-go/stalltarget", "stalltarget binary")
	sizes := fs.String("goroutines", "1000,10000,100000", "target sizes")
	reps := fs.Int("reps", 5, "fetches per phase")
	probes := fs.Int("probes", 5, "exporter probes per target")
	fs.Parse(args)

	ex, err := startExporter(*exporterBin) // no config: the default module and its caps
	if err != nil {
		return err
	}
	defer ex.Stop()
	client := &http.Client{Timeout: 60 * time.Second}
	// The caps the running exporter applies (its /config), defaults unless changed in code.
	var conf struct {
		Modules map[string]struct {
			Debug2 struct {
				MaxGoroutines int `json:"max_goroutines"`
			} `json:"debug2"`
			Goroutineleak struct {
				MaxGoroutines int `json:"max_goroutines"`
			} `json:"goroutineleak"`
		} `json:"modules"`
	}
	if err := getJSON("http://"+ex.Addr+"/config", &conf); err != nil {
		return fmt.Errorf("exporter /config: %v", err)
	}
	debug2Cap, leakCap := conf.Modules["default"].Debug2.MaxGoroutines, conf.Modules["default"].Goroutineleak.MaxGoroutines
	var results []costTarget
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		tg, err := startChild([]string{*targetBin, "-goroutines", strconv.Itoa(n)}, nil, targetListenRE, 120*time.Second)
		if err != nil {
			return err
		}
		base := "http://" + tg.Addr
		ct := costTarget{Goroutines: n, Debug2Cap: debug2Cap, LeakCap: leakCap}
		if m := regexp.MustCompile(`goroutines=(\d+)`).FindStringSubmatch(tg.Line); m != nil {
			ct.Total, _ = strconv.Atoi(m[1])
		}
		time.Sleep(500 * time.Millisecond)
		// runPhase fetches nreps times from the target at base, reading its monitor around each.
		runPhase := func(base, phase, label string, nreps int, do func(rep int) (int, int, float64, error)) costPhase {
			stall := func() stallStats {
				var st stallStats
				getJSON(base+"/bench/stall", &st)
				return st
			}
			counts := func() map[string]int {
				c := map[string]int{}
				getJSON(base+"/bench/counts", &c)
				return c
			}
			p := costPhase{Phase: phase, Label: label}
			var maxes, secs, allocs []float64
			sum := map[string]int{}
			for rep := 0; rep < nreps; rep++ {
				time.Sleep(300 * time.Millisecond) // let the previous fetch's GC work settle
				stall()                            // reset the monitor
				c0 := counts()
				time.Sleep(50 * time.Millisecond)
				status, bytes, sec, err := do(rep)
				time.Sleep(50 * time.Millisecond)
				st := stall()
				req := diffCounts(c0, counts())
				for k, v := range req {
					sum[k] += v
				}
				if err != nil {
					logf("cost %d %s: %v", n, phase, err)
				}
				f := costFetch{Rep: rep, Seconds: sec, Bytes: bytes, Status: status, Stall: st, Requests: req}
				p.Fetches = append(p.Fetches, f)
				stallMs := st.MaxGapMs - 1 // the monitor sleeps 1 ms
				if stallMs < 0 {
					stallMs = 0
				}
				maxes = append(maxes, stallMs)
				secs = append(secs, sec)
				allocs = append(allocs, float64(st.HeapAllocBytes))
				if st.GCCycles > 0 {
					p.GCFetches++
				}
				if stallMs > p.MaxStallMs {
					p.MaxStallMs = stallMs
				}
				p.Bytes = bytes
			}
			p.MedStallMs = median(maxes)
			p.MedSeconds = median(secs)
			p.MedAlloc = median(allocs)
			p.StallsMs = maxes
			var parts []string
			for _, k := range []string{"/debug/pprof/goroutine?debug=0", "/debug/pprof/goroutine?debug=2", "/debug/pprof/goroutineleak?debug=0"} {
				if sum[k] > 0 {
					parts = append(parts, fmt.Sprintf("%s ×%d", strings.TrimPrefix(k, "/debug/pprof/"), sum[k]))
				}
			}
			p.Requests = strings.Join(parts, ", ")
			logf("cost %6d %-14s stall median %.1f ms, worst %.1f ms, fetch %.3f s, %d bytes, GC in %d of %d fetches, %.1f MB allocated [%s]",
				n, phase, p.MedStallMs, p.MaxStallMs, p.MedSeconds, p.Bytes, p.GCFetches, nreps, p.MedAlloc/1e6, p.Requests)
			return p
		}
		direct := func(base, path string) func(int) (int, int, float64, error) {
			return func(int) (int, int, float64, error) { return fetchAll(client, base+path) }
		}
		ct.Phases = append(ct.Phases, runPhase(base, "idle", "no fetch (1 s)", 1, func(int) (int, int, float64, error) {
			time.Sleep(time.Second)
			return 0, 0, 1, nil
		}))
		// The exporter's default plan first, while the target's state in the prober is fresh.
		probeURL := "http://" + ex.Addr + "/probe?target=" + url.QueryEscape(tg.Addr)
		probeTotal := 0
		probe := func(int) (int, int, float64, error) {
			t0 := time.Now()
			resp, err := client.Get(probeURL)
			if err != nil {
				return 0, 0, 0, err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := probeTotalRE.FindSubmatch(body); m != nil {
				probeTotal, _ = strconv.Atoi(string(m[1]))
			}
			return resp.StatusCode, len(body), time.Since(t0).Seconds(), nil
		}
		first := runPhase(base, "probe_first", "exporter /probe, first (default plan)", 1, probe)
		later := runPhase(base, "probe_later", "exporter /probe, later (expensive results reused)", *probes-1, probe)
		ct.Phases = append(ct.Phases, first, later)
		ct.DefaultPlanMedStallMs = median(append(append([]float64{}, first.StallsMs...), later.StallsMs...))
		ct.DefaultPlanMaxStallMs = max(first.MaxStallMs, later.MaxStallMs)
		debug0 := runPhase(base, "debug0", "direct goroutine?debug=0", *reps, direct(base, "/debug/pprof/goroutine?debug=0"))
		ct.Phases = append(ct.Phases, debug0)
		ct.Phases = append(ct.Phases, runPhase(base, "debug2", "direct goroutine?debug=2", *reps, direct(base, "/debug/pprof/goroutine?debug=2")))
		ct.Phases = append(ct.Phases, runPhase(base, "goroutineleak", "direct goroutineleak?debug=0", *reps, direct(base, "/debug/pprof/goroutineleak?debug=0")))
		tg.Stop()

		// The control: the same target with its garbage collector off, so a fetch's
		// allocations cannot start a GC cycle; what stall is left is the profile's own.
		ctl, err := startChild([]string{*targetBin, "-goroutines", strconv.Itoa(n)}, []string{"GOGC=off"}, targetListenRE, 120*time.Second)
		if err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
		ctlBase := "http://" + ctl.Addr
		gcOff := runPhase(ctlBase, "debug0_gc_off", "direct goroutine?debug=0, target's GC off (GOGC=off)", *reps, direct(ctlBase, "/debug/pprof/goroutine?debug=0"))
		ct.Phases = append(ct.Phases, gcOff)
		ct.Debug0GCOffMedStallMs = gcOff.MedStallMs
		ctl.Stop()

		ct.Probes = *probes
		for _, p := range []costPhase{first, later} {
			for _, f := range p.Fetches {
				ct.ProbeDebug0 += f.Requests["/debug/pprof/goroutine?debug=0"]
				ct.ProbeDebug2 += f.Requests["/debug/pprof/goroutine?debug=2"]
				ct.ProbeLeak += f.Requests["/debug/pprof/goroutineleak?debug=0"]
			}
		}
		ct.GoVersion = targetGoVersion(tg.Line)
		if probeTotal > 0 {
			ct.Total = probeTotal
		}
		if ct.Total > 0 {
			ct.Debug0AllocPerGoroutine = debug0.MedAlloc / float64(ct.Total)
		}
		ct.ExpectDebug2 = ct.Total <= ct.Debug2Cap
		ct.ExpectLeak = ct.Total <= ct.LeakCap
		ct.PlannerRespects = (ct.ProbeDebug2 > 0) == ct.ExpectDebug2 && (ct.ProbeLeak > 0) == ct.ExpectLeak &&
			ct.ProbeDebug2 <= 1 && ct.ProbeLeak <= 1
		results = append(results, ct)
	}
	return writeJSON(*out, results)
}
