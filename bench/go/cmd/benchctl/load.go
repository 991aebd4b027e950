package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

type loadResult struct {
	Class            string  `json:"class"`
	Description      string  `json:"description"`
	BodyBytes        int     `json:"body_bytes"`
	Targets          int     `json:"targets"`
	Concurrency      int     `json:"concurrency"`
	KeepAlive        bool    `json:"keep_alive"`
	Seconds          float64 `json:"seconds"`
	Probes           int     `json:"probes"`
	Errors           int     `json:"errors"`
	ProbesPerSec     float64 `json:"probes_per_s"`
	P50Ms            float64 `json:"p50_ms"`
	P99Ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	ExporterCPUSec   float64 `json:"exporter_cpu_s"`
	ExporterCores    float64 `json:"exporter_cores"`    // CPU seconds per wall second
	ProbesPerCoreSec float64 `json:"probes_per_core_s"` // probes per exporter CPU second
	ResponseBytes    float64 `json:"response_bytes"`    // mean /probe answer size
	RSSKB            int64   `json:"rss_kb"`
	HWMKB            int64   `json:"hwm_kb"`
	Threads          int     `json:"threads"`
	FarmDebug0       int64   `json:"farm_debug0_requests"`
}

// runProbeLoad sends /probe requests from `conc` closed-loop workers for `dur`. Worker i only
// probes targets i, i+conc, ... so no two requests share a target (and thus a fetch).
// keepAlive reuses connections like Prometheus does; without it every probe opens a new one.
func runProbeLoad(exporter string, targets []string, conc int, dur time.Duration, keepAlive bool) (lat []float64, errs int, bytes int64) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc * 2, MaxConnsPerHost: conc * 2, DisableCompression: true,
		DisableKeepAlives: !keepAlive}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var local []float64
			var lerr int
			var lbytes int64
			for i := w; ctx.Err() == nil; i += conc {
				t := targets[i%len(targets)]
				t0 := time.Now()
				resp, err := client.Get("http://" + exporter + "/probe?target=" + url.QueryEscape(t))
				if err != nil {
					if ctx.Err() == nil {
						lerr++
					}
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if ctx.Err() != nil {
					break // answer arrived after the window; not counted
				}
				local = append(local, time.Since(t0).Seconds()*1000)
				lbytes += int64(len(body))
				if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine_probe_success 1") {
					lerr++
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += lerr
			bytes += lbytes
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	sort.Float64s(lat)
	return lat, errs, bytes
}

// repeatResult is the exporter's RSS after each of several sequential probes of one target.
type repeatResult struct {
	Class   string    `json:"class"`
	Probes  int       `json:"probes"`
	RSSKB   []int64   `json:"rss_kb"`
	Seconds []float64 `json:"seconds"`
	Threads int       `json:"threads"`
}

type loadFile struct {
	Runs   []loadResult  `json:"runs"`
	Repeat *repeatResult `json:"repeat,omitempty"`
}

// repeatProbes probes one target n times in a row on one keep-alive-free client and records
// the exporter's RSS after each probe: the memory a big profile leaves behind per probe.
func repeatProbes(exporterBin, cfg string, f *farm, class string, n int) (*repeatResult, error) {
	ex, err := startExporter(exporterBin, "--config.file", cfg)
	if err != nil {
		return nil, err
	}
	defer ex.Stop()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	r := &repeatResult{Class: class, Probes: n}
	rss0, _ := ex.MemKB()
	r.RSSKB = append(r.RSSKB, rss0)
	r.Seconds = append(r.Seconds, 0)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		resp, err := client.Get("http://" + ex.Addr + "/probe?target=" + url.QueryEscape(f.addrs[0]))
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rss, _ := ex.MemKB()
		r.RSSKB = append(r.RSSKB, rss)
		r.Seconds = append(r.Seconds, time.Since(t0).Seconds())
	}
	r.Threads = ex.Threads()
	logf("repeat %s: RSS after 0..%d probes of one target: %v KiB", class, n, r.RSSKB)
	return r, nil
}

const noExpensiveConfig = `# debug=0 only: the load tests measure the per-probe path.
modules:
  default:
    debug2: {enabled: false}
    goroutineleak: {enabled: false}
`

func cmdLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	out := fs.String("o", "load.json", "output JSON")
	exporterBin := fs.String("exporter", "build/exporter/goroutine_exporter", "exporter binary")
	corpus := fs.String("corpus", "../shared/corpus", "corpus directory")
	synth := fs.String("synth", "build/bench-data/synth-10k-stacks.debug0.pb.gz", "synthetic debug=0 profile")
	dur := fs.Duration("duration", 8*time.Second, "measured time per run")
	warm := fs.Duration("warmup", time.Second, "unmeasured load before each run")
	concs := fs.String("concurrency", "1,8", "client concurrency levels")
	ports := fs.Int("targets", 64, "farm targets per profile class (small profiles)")
	bigPorts := fs.Int("big-targets", 8, "farm targets for the 10k-stack profile")
	conns := fs.String("connections", "keep-alive,new", "keep-alive and/or new (connection per probe)")
	repeats := fs.Int("repeat", 20, "sequential probes of one 10k-stack target for the RSS-per-probe series (0: skip)")
	fs.Parse(args)

	classes := []struct {
		name, desc, path string
		ports            int
	}{
		{"small", "corpus go1.27/t2", filepath.Join(*corpus, "go1.27", "t2.goroutine.debug0.pb.gz"), *ports},
		{"mass-100k", "corpus mass-go1.27-100k/t1", filepath.Join(*corpus, "mass-go1.27-100k", "t1.goroutine.debug0.pb.gz"), *ports},
		{"synth-10k-stacks", "synthetic", *synth, *bigPorts},
	}
	var keepAlives []bool
	for _, c := range strings.Split(*conns, ",") {
		keepAlives = append(keepAlives, strings.TrimSpace(c) == "keep-alive")
	}
	var levels []int
	for _, s := range strings.Split(*concs, ",") {
		var n int
		fmt.Sscanf(s, "%d", &n)
		if n > 0 {
			levels = append(levels, n)
		}
	}
	dir, err := os.MkdirTemp("", "gx-bench-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(noExpensiveConfig), 0o644); err != nil {
		return err
	}
	var file loadFile
	for _, cl := range classes {
		body := mustRead(cl.path)
		desc := describeProfile(cl.desc, body)
		f, err := newFarm(cl.ports, profileSet{Name: cl.name, Debug0: body})
		if err != nil {
			return err
		}
		for _, ka := range keepAlives {
			for _, conc := range levels {
				ex, err := startExporter(*exporterBin, "--config.file", cfg)
				if err != nil {
					f.Close()
					return err
				}
				runProbeLoad(ex.Addr, f.addrs, conc, *warm, ka)
				farm0 := f.debug0.Load()
				cpu0 := ex.CPUSeconds()
				t0 := time.Now()
				lat, errs, nbytes := runProbeLoad(ex.Addr, f.addrs, conc, *dur, ka)
				wall := time.Since(t0).Seconds()
				cpu := ex.CPUSeconds() - cpu0
				rss, hwm := ex.MemKB()
				r := loadResult{Class: cl.name, Description: desc, BodyBytes: len(body), Targets: len(f.addrs),
					Concurrency: conc, KeepAlive: ka, Seconds: wall, Probes: len(lat), Errors: errs,
					ProbesPerSec: float64(len(lat)) / wall, P50Ms: quantile(lat, 0.50), P99Ms: quantile(lat, 0.99),
					ExporterCPUSec: cpu, ExporterCores: cpu / wall, RSSKB: rss, HWMKB: hwm, Threads: ex.Threads(),
					FarmDebug0: f.debug0.Load() - farm0}
				if len(lat) > 0 {
					r.MaxMs = lat[len(lat)-1]
					r.ResponseBytes = float64(nbytes) / float64(len(lat))
				}
				if cpu > 0 {
					r.ProbesPerCoreSec = float64(len(lat)) / cpu
				}
				ex.Stop()
				logf("load %-16s ka=%-5v c=%d: %6.0f probes/s, %6.0f per core-s, p50 %.2f ms, p99 %.2f ms, rss %d KB, errors %d",
					cl.name, ka, conc, r.ProbesPerSec, r.ProbesPerCoreSec, r.P50Ms, r.P99Ms, r.RSSKB, r.Errors)
				file.Runs = append(file.Runs, r)
			}
		}
		if cl.name == "synth-10k-stacks" && *repeats > 0 {
			rep, err := repeatProbes(*exporterBin, cfg, f, cl.name, *repeats)
			if err != nil {
				f.Close()
				return err
			}
			file.Repeat = rep
		}
		f.Close()
	}
	return writeJSON(*out, file)
}
