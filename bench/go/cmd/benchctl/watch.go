package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type watchResult struct {
	Targets            int     `json:"targets"`
	Interval           string  `json:"interval"`
	Concurrency        int     `json:"concurrency"`
	Profile            string  `json:"profile"`
	WarmupSeconds      float64 `json:"warmup_s"`
	MeasureSeconds     float64 `json:"measure_s"`
	CPUSeconds         float64 `json:"cpu_s"`
	CPUShare           float64 `json:"cpu_share"` // of one core
	CPUSharePerMachine float64 `json:"cpu_share_machine"`
	CPUMsPerFetch      float64 `json:"cpu_ms_per_fetch"`
	Fetches            int64   `json:"fetches"`
	FetchesPerSec      float64 `json:"fetches_per_s"`
	BaselineRSSKB      int64   `json:"baseline_rss_kb"`
	RSSStartKB         int64   `json:"rss_start_kb"`
	RSSEndKB           int64   `json:"rss_end_kb"`
	HWMKB              int64   `json:"hwm_kb"`
	KBPerTarget        float64 `json:"kb_per_target"`
	Threads            int     `json:"threads"`
	MetricsMs          float64 `json:"metrics_ms"` // median GET /metrics wall time
	MetricsSeries      int     `json:"metrics_series"`
	MetricsBytes       int     `json:"metrics_bytes"`
	Cores              int     `json:"cores"`
	StartPointsPerTgt  float64 `json:"start_points_per_target"`
	EndPointsPerTgt    float64 `json:"end_points_per_target"`
	// Full history: exporters polling fewer targets every second until every target holds
	// the default maximum of history points, at two target counts; the difference in RSS over
	// the difference in targets is the memory one more target costs (fixed costs cancel out).
	FullTargets      []int     `json:"full_targets"`
	FullSeconds      []float64 `json:"full_s"`
	FullPointsPerTgt []float64 `json:"full_points_per_target"`
	FullRSSKB        []int64   `json:"full_rss_kb"`
	FullKBPerTarget  []float64 `json:"full_kb_per_target"` // (RSS - no targets) / targets
	MarginalKB       float64   `json:"marginal_kb_per_target"`
}

// medianRSSKB samples the exporter's RSS n times, gap apart, and returns the median: the
// exporter hands freed pages back every few seconds, so one sample lands anywhere in that
// cycle.
func medianRSSKB(c *child, n int, gap time.Duration) int64 {
	var xs []float64
	for i := 0; i < n; i++ {
		if i > 0 {
			time.Sleep(gap)
		}
		rss, _ := c.MemKB()
		xs = append(xs, float64(rss))
	}
	sort.Float64s(xs)
	logf("watch: RSS samples (KB, sorted): %v", xs)
	return int64(median(xs))
}

// historyPoints reads goroutine_exporter_history_points from the exporter's /metrics.
func historyPoints(addr string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v float64
		if _, err := fmt.Sscanf(sc.Text(), "goroutine_exporter_history_points %g", &v); err == nil {
			return v
		}
	}
	return -1
}

// watchConfig is a watch-mode configuration over addrs with the benchmarks' debug=0-only module.
func watchConfig(addrs []string, interval time.Duration, conc int) string {
	var sb strings.Builder
	timeout := 10 * time.Second
	if timeout > interval {
		timeout = interval
	}
	fmt.Fprintf(&sb, "watch:\n  interval: %s\n  timeout: %s\n  concurrency: %d\n  static_configs:\n    - targets:\n", interval, timeout, conc)
	for _, a := range addrs {
		fmt.Fprintf(&sb, "        - %q\n", a)
	}
	sb.WriteString(noExpensiveConfig)
	return sb.String()
}

func getMetrics(addr string) (ms float64, series, size int, err error) {
	// A new connection per scrape: keeps the measurement about rendering and transfer.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	t0 := time.Now()
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ms = time.Since(t0).Seconds() * 1000
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" && l[0] != '#' {
			series++
		}
	}
	return ms, series, len(body), err
}

func cmdWatch(args []string) error {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	out := fs.String("o", "watch.json", "output JSON")
	exporterBin := fs.String("exporter", "build/exporter/goroutine_exporter", "exporter binary")
	corpus := fs.String("corpus", "../shared/corpus", "corpus directory")
	n := fs.Int("targets", 1000, "watched targets")
	interval := fs.Duration("interval", 15*time.Second, "watch interval")
	conc := fs.Int("concurrency", 4, "watch concurrency")
	warm := fs.Duration("warmup", 20*time.Second, "time before measuring (first round of fetches)")
	measure := fs.Duration("measure", 60*time.Second, "measured window")
	fullNs := fs.String("full-targets", "100,500", "target counts of the full-history phase (two, or empty to skip)")
	fullPoints := fs.Int("full-points", 60, "history points per target to reach (the default history.max_snapshots)")
	fs.Parse(args)

	profilePath := filepath.Join(*corpus, "go1.27", "t2.goroutine.debug0.pb.gz")
	body := mustRead(profilePath)
	f, err := newFarm(*n, profileSet{Name: "small", Debug0: body})
	if err != nil {
		return err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "gx-bench-watch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Baseline: the same exporter without targets.
	base := filepath.Join(dir, "base.yml")
	os.WriteFile(base, []byte(noExpensiveConfig), 0o644)
	ex, err := startExporter(*exporterBin, "--config.file", base)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	baseRSS := medianRSSKB(ex, 5, time.Second)
	ex.Stop()

	cfg := filepath.Join(dir, "watch.yml")
	if err := os.WriteFile(cfg, []byte(watchConfig(f.addrs, *interval, *conc)), 0o644); err != nil {
		return err
	}
	ex, err = startExporter(*exporterBin, "--config.file", cfg)
	if err != nil {
		return err
	}
	defer ex.Stop()
	time.Sleep(*warm)
	startPoints := historyPoints(ex.Addr)
	rss0, _ := ex.MemKB()
	cpu0 := ex.CPUSeconds()
	fetch0 := f.debug0.Load()
	t0 := time.Now()
	time.Sleep(*measure)
	wall := time.Since(t0).Seconds()
	cpu := ex.CPUSeconds() - cpu0
	fetches := f.debug0.Load() - fetch0
	rss1 := medianRSSKB(ex, 7, time.Second)
	_, hwm := ex.MemKB()
	endPoints := historyPoints(ex.Addr)
	r := watchResult{Targets: *n, Interval: interval.String(), Concurrency: *conc, Profile: describeProfile("corpus go1.27/t2.goroutine.debug0.pb.gz", body) + ", " + humanBytes(len(body)),
		WarmupSeconds: warm.Seconds(), MeasureSeconds: wall, CPUSeconds: cpu, CPUShare: cpu / wall,
		Fetches: fetches, FetchesPerSec: float64(fetches) / wall, BaselineRSSKB: baseRSS, RSSStartKB: rss0,
		RSSEndKB: rss1, HWMKB: hwm, KBPerTarget: float64(rss1-baseRSS) / float64(*n), Threads: ex.Threads(),
		Cores: numCPU(), StartPointsPerTgt: startPoints / float64(*n), EndPointsPerTgt: endPoints / float64(*n)}
	r.CPUSharePerMachine = r.CPUShare / float64(r.Cores)
	if fetches > 0 {
		r.CPUMsPerFetch = cpu * 1000 / float64(fetches)
	}
	var times []float64
	for i := 0; i < 5; i++ {
		ms, series, size, err := getMetrics(ex.Addr)
		if err != nil {
			return err
		}
		times = append(times, ms)
		r.MetricsSeries, r.MetricsBytes = series, size
	}
	sort.Float64s(times)
	r.MetricsMs = median(times)
	ex.Stop()

	for _, field := range strings.Split(*fullNs, ",") {
		var fullN int
		if _, err := fmt.Sscanf(field, "%d", &fullN); err != nil || fullN <= 0 || fullN > len(f.addrs) {
			continue
		}
		full := filepath.Join(dir, "full.yml")
		if err := os.WriteFile(full, []byte(watchConfig(f.addrs[:fullN], time.Second, *conc)), 0o644); err != nil {
			return err
		}
		fx, err := startExporter(*exporterBin, "--config.file", full)
		if err != nil {
			return err
		}
		t := time.Now()
		want := float64(fullN * *fullPoints)
		// Bounded: at most fullPoints + 30 seconds.
		for time.Since(t) < time.Duration(*fullPoints+30)*time.Second && historyPoints(fx.Addr) < want {
			time.Sleep(time.Second)
		}
		time.Sleep(3 * time.Second) // a few more rounds: points are replaced, not added, from now on
		// 15 samples span three release cycles: the difference of two such medians is what one
		// more target costs, so it must not depend on where in the cycle a few samples fell.
		rss := medianRSSKB(fx, 15, time.Second)
		r.FullTargets = append(r.FullTargets, fullN)
		r.FullSeconds = append(r.FullSeconds, time.Since(t).Seconds())
		r.FullPointsPerTgt = append(r.FullPointsPerTgt, historyPoints(fx.Addr)/float64(fullN))
		r.FullRSSKB = append(r.FullRSSKB, rss)
		r.FullKBPerTarget = append(r.FullKBPerTarget, float64(rss-baseRSS)/float64(fullN))
		fx.Stop()
		logf("watch full history: %d targets: RSS %d KB, %.1f KB/target", fullN, rss, float64(rss-baseRSS)/float64(fullN))
	}
	if k := len(r.FullTargets); k >= 2 && r.FullTargets[k-1] != r.FullTargets[0] {
		r.MarginalKB = float64(r.FullRSSKB[k-1]-r.FullRSSKB[0]) / float64(r.FullTargets[k-1]-r.FullTargets[0])
	}
	logf("watch %d targets @%s: cpu %.3f cores, %.2f ms/fetch, %.1f fetches/s, %.1f KB/target, /metrics %.1f ms for %d series",
		*n, interval, r.CPUShare, r.CPUMsPerFetch, r.FetchesPerSec, r.KBPerTarget, r.MetricsMs, r.MetricsSeries)
	return writeJSON(*out, r)
}
