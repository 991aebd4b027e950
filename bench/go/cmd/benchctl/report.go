package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// Google Benchmark's JSON (the subset used).
type gbenchFile struct {
	Context struct {
		Date         string    `json:"date"`
		NumCPUs      int       `json:"num_cpus"`
		MhzPerCPU    int       `json:"mhz_per_cpu"`
		LibraryBuild string    `json:"library_build_type"`
		LoadAvg      []float64 `json:"load_avg"`
	} `json:"context"`
	Benchmarks []map[string]any `json:"benchmarks"`
}

type gbench struct {
	Name       string
	RealNs     float64
	CPUNs      float64
	Iterations float64
	Counters   map[string]float64
}

func loadGbench(path string) (map[string]gbench, gbenchFile, error) {
	var f gbenchFile
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, f, err
	}
	// Aggregates of constant counters (the coefficient of variation of a fixed size) are
	// written as bare NaN, which is not JSON.
	data = regexp.MustCompile(`:\s*-?(NaN|nan|inf|Infinity)\b`).ReplaceAll(data, []byte(": null"))
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, f, err
	}
	out := map[string]gbench{}
	for _, b := range f.Benchmarks {
		name, _ := b["name"].(string)
		// With --benchmark_repetitions, keep the median aggregate under the plain name.
		if runType, _ := b["run_type"].(string); runType == "aggregate" {
			if agg, _ := b["aggregate_name"].(string); agg != "median" {
				continue
			}
			name, _ = b["run_name"].(string)
		} else if _, seen := out[name]; seen {
			continue
		}
		unit, _ := b["time_unit"].(string)
		scale := map[string]float64{"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
		if scale == 0 {
			scale = 1
		}
		g := gbench{Name: name, Counters: map[string]float64{}}
		g.RealNs, _ = b["real_time"].(float64)
		g.CPUNs, _ = b["cpu_time"].(float64)
		g.RealNs *= scale
		g.CPUNs *= scale
		g.Iterations, _ = b["iterations"].(float64)
		for k, v := range b {
			if x, ok := v.(float64); ok {
				g.Counters[k] = x
			}
		}
		out[name] = g
	}
	return out, f, nil
}

type debug0Row struct {
	Name                    string
	BodyBytes, Goroutines   int64
	Stacks, GoStacks        int64
	OursWallUs, OursCPUUs   float64
	SteadyWallUs            float64 // stack-shape cache warm: a target probed again
	OnlyWallUs              float64
	InflateWallUs           float64 // zlib
	LibdeflateWallUs        float64 // libdeflate, what the decoder uses for whole bodies
	GoWallUs, GoCPUUs       float64
	SpeedupWall, SpeedupCPU float64
	SpeedupSteady           float64
	SpeedupOnly             float64 // Go's full time / our decode alone (no aggregation)
	Ceiling                 float64 // Go's full time / libdeflate inflate alone
	GoalMet, GoalMetSteady  bool
	LimitFraction           float64 // inflate time / our time
	OnlyLimitFraction       float64
}

type debug0Summary struct {
	N                              int
	GeoSpeedupWall, GeoSpeedupCPU  float64
	MinSpeedupWall, MaxSpeedupWall float64
	GoalMetRows, GoalMetSteadyRows int
	GeoSpeedupSteady               float64
	GeoSpeedupOnly                 float64
	GeoCeiling                     float64
	GeoLimitFraction               float64
	GeoOnlyLimitFraction           float64
}

type debug2Row struct {
	Parser, ParserName           string
	MBps, GorPerSec              float64
	Goroutines, GoroutinesInFile int64
	RSSMB                        float64
	LimitFraction                float64
	VsGostackparse               float64
	Seconds                      float64
	Error                        string
}

type debug2Group struct {
	Input       string
	Description string
	Bytes       int64
	Goroutines  int
	Truncated   bool
	Rows        []debug2Row
	OursVsGSP   float64
	OursMBps    float64
}

type renderRow struct {
	Name        string
	Series      float64
	Targets     float64
	TextBytes   float64
	WallMs      float64
	CPUMs       float64
	UsPerSeries float64
}

type reportData struct {
	Env           envInfo
	EnvEnd        envInfo
	Generated     string
	Micro         gbenchFile
	Inputs        []inputInfo
	Debug0        []debug0Row
	Debug0Sum     debug0Summary
	Debug2        []debug2Group
	Debug2Goals   map[string]string
	ParseReps     int    // runs per parser and dump (the median is reported)
	LoadGoal      string // probes per CPU-second on typical profiles
	WatchGoal     string // memory per watched target
	CostGoal      string // stall of the default fetch plan at every size
	CapsGoal      string // the planner against the expensive formats' caps
	Load          []loadResult
	Repeat        *repeatResult
	SynRetransmit bool
	Watch         *watchResult
	Render        []renderRow
	Cost          []costTarget
	RunSeconds    float64
	Quick         bool
	Steps         []stepTime
	Commands      string
	Nagle         *nagleNote
	Missing       []string
}

type stepTime struct {
	Step    string
	Seconds float64
}

// nagleNote is set when keep-alive probes are much slower than probes on new connections.
type nagleNote struct {
	Class                string
	KeepAliveP50, NewP50 float64
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func geoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += math.Log(x)
	}
	return math.Exp(s / float64(len(xs)))
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("results", "build/bench-results", "results directory")
	tmplPath := fs.String("template", "bench/BENCHMARKS.md.tmpl", "template")
	out := fs.String("out", "docs/BENCHMARKS.md", "output markdown")
	runSeconds := fs.Float64("run-seconds", 0, "wall time of the whole run")
	quick := fs.Bool("quick", false, "the run used the short development settings")
	fs.Parse(args)

	d := reportData{Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"), RunSeconds: *runSeconds, Quick: *quick}
	p := func(name string) string { return filepath.Join(*dir, name) }
	missing := func(what string, err error) { d.Missing = append(d.Missing, fmt.Sprintf("%s (%v)", what, err)) }
	if err := readJSON(p("env.json"), &d.Env); err != nil {
		missing("env.json", err)
	}
	if err := readJSON(p("env-end.json"), &d.EnvEnd); err != nil {
		d.EnvEnd = d.Env
	}
	// The doc dates the run (its end), not the moment it was rendered.
	if t, err := time.Parse(time.RFC3339, d.EnvEnd.Time); err == nil {
		d.Generated = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	if err := readJSON(p("inputs.json"), &d.Inputs); err != nil {
		missing("inputs.json", err)
	}

	micro, mf, err := loadGbench(p("micro.json"))
	if err != nil {
		missing("micro.json", err)
	}
	d.Micro = mf
	var goRes []debug0Result
	if err := readJSON(p("debug0_go.json"), &goRes); err != nil {
		missing("debug0_go.json", err)
	}
	var wallSp, cpuSp, lim, onlyLim, steadySp, onlySp, ceil []float64
	for _, g := range goRes {
		ours, ok := micro["decode0/"+g.Name]
		if !ok {
			continue
		}
		r := debug0Row{Name: g.Name, BodyBytes: int64(g.BodyBytes), Goroutines: g.Goroutines,
			Stacks: int64(ours.Counters["stacks"]), GoStacks: int64(g.Stacks),
			OursWallUs: ours.RealNs / 1e3, OursCPUUs: ours.CPUNs / 1e3,
			SteadyWallUs: micro["decode0_steady/"+g.Name].RealNs / 1e3,
			OnlyWallUs:   micro["decode0_only/"+g.Name].RealNs / 1e3, InflateWallUs: micro["inflate0/"+g.Name].RealNs / 1e3,
			LibdeflateWallUs: micro["inflate0_libdeflate/"+g.Name].RealNs / 1e3,
			GoWallUs:         g.WallNsPerOp / 1e3, GoCPUUs: g.CPUNsPerOp / 1e3}
		r.SpeedupWall = r.GoWallUs / r.OursWallUs
		r.SpeedupCPU = r.GoCPUUs / r.OursCPUUs
		r.SpeedupSteady = r.GoWallUs / r.SteadyWallUs
		r.SpeedupOnly = r.GoWallUs / r.OnlyWallUs
		r.Ceiling = r.GoWallUs / r.LibdeflateWallUs
		r.GoalMet = r.SpeedupWall >= 5
		r.GoalMetSteady = r.SpeedupSteady >= 5
		steadySp = append(steadySp, r.SpeedupSteady)
		onlySp = append(onlySp, r.SpeedupOnly)
		ceil = append(ceil, r.Ceiling)
		if r.GoalMetSteady {
			d.Debug0Sum.GoalMetSteadyRows++
		}
		r.LimitFraction = r.InflateWallUs / r.OursWallUs
		r.OnlyLimitFraction = r.InflateWallUs / r.OnlyWallUs
		wallSp = append(wallSp, r.SpeedupWall)
		cpuSp = append(cpuSp, r.SpeedupCPU)
		lim = append(lim, r.LimitFraction)
		onlyLim = append(onlyLim, r.OnlyLimitFraction)
		if r.GoalMet {
			d.Debug0Sum.GoalMetRows++
		}
		d.Debug0 = append(d.Debug0, r)
	}
	if len(wallSp) > 0 {
		d.Debug0Sum.N = len(wallSp)
		d.Debug0Sum.GeoSpeedupWall = geoMean(wallSp)
		d.Debug0Sum.GeoSpeedupCPU = geoMean(cpuSp)
		d.Debug0Sum.GeoLimitFraction = geoMean(lim)
		d.Debug0Sum.GeoOnlyLimitFraction = geoMean(onlyLim)
		d.Debug0Sum.GeoSpeedupSteady = geoMean(steadySp)
		d.Debug0Sum.GeoSpeedupOnly = geoMean(onlySp)
		d.Debug0Sum.GeoCeiling = geoMean(ceil)
		d.Debug0Sum.MinSpeedupWall, d.Debug0Sum.MaxSpeedupWall = math.Inf(1), 0
		for _, s := range wallSp {
			d.Debug0Sum.MinSpeedupWall = math.Min(d.Debug0Sum.MinSpeedupWall, s)
			d.Debug0Sum.MaxSpeedupWall = math.Max(d.Debug0Sum.MaxSpeedupWall, s)
		}
	}
	for _, name := range []string{"render/one_target_many_stacks", "render/many_targets_default_module"} {
		if g, ok := micro[name]; ok {
			r := renderRow{Name: strings.TrimPrefix(name, "render/"), Series: g.Counters["series"], Targets: g.Counters["targets"],
				TextBytes: g.Counters["text_bytes"], WallMs: g.RealNs / 1e6, CPUMs: g.CPUNs / 1e6}
			if r.Series > 0 {
				r.UsPerSeries = g.RealNs / 1e3 / r.Series
			}
			d.Render = append(d.Render, r)
		}
	}

	var runs []parseRun
	if err := readJSON(p("parse.json"), &runs); err != nil {
		missing("parse.json", err)
	}
	byInput := map[string]*debug2Group{}
	var order []string
	for _, r := range runs {
		if len(r.SecondsAll) > d.ParseReps {
			d.ParseReps = len(r.SecondsAll)
		}
		g, ok := byInput[r.Input]
		if !ok {
			g = &debug2Group{Input: r.Input, Bytes: r.Bytes, Goroutines: r.GoroutinesInFile}
			for _, in := range d.Inputs {
				if in.Name == r.Input {
					g.Description, g.Truncated = in.Description, in.Truncated
				}
			}
			byInput[r.Input] = g
			order = append(order, r.Input)
		}
		g.Rows = append(g.Rows, debug2Row{Parser: r.Parser, ParserName: r.ParserName, MBps: r.MBPerSec,
			GorPerSec: r.GoroutinesPerSec, Goroutines: r.Goroutines, GoroutinesInFile: int64(r.GoroutinesInFile),
			RSSMB: float64(r.MaxRSSKB) / 1024, Seconds: r.Seconds, Error: r.Error})
	}
	d.Debug2Goals = map[string]string{}
	var oursRSS []float64
	minVsGSP, minMBps := math.Inf(1), math.Inf(1)
	for _, name := range order {
		g := byInput[name]
		var limit, gsp, ours float64
		for _, r := range g.Rows {
			switch r.Parser {
			case "memchr":
				limit = r.MBps
			case "gostackparse":
				gsp = r.MBps
			case "gx-aggregate":
				ours = r.MBps
				oursRSS = append(oursRSS, r.RSSMB)
			}
		}
		for i := range g.Rows {
			if limit > 0 {
				g.Rows[i].LimitFraction = g.Rows[i].MBps / limit
			}
			if gsp > 0 {
				g.Rows[i].VsGostackparse = g.Rows[i].MBps / gsp
			}
		}
		g.OursMBps = ours
		if gsp > 0 {
			g.OursVsGSP = ours / gsp
			minVsGSP = math.Min(minVsGSP, g.OursVsGSP)
		}
		minMBps = math.Min(minMBps, ours)
		d.Debug2 = append(d.Debug2, *g)
	}
	if len(order) > 0 {
		verdict := func(ok bool) string {
			if ok {
				return "met"
			}
			return "not met"
		}
		d.Debug2Goals["vs_gsp"] = fmt.Sprintf("%.2f× at worst: %s", minVsGSP, verdict(minVsGSP >= 2))
		d.Debug2Goals["gbps"] = fmt.Sprintf("%.2f GB/s at worst: %s", minMBps/1000, verdict(minMBps > 1000))
		lo, hi := math.Inf(1), 0.0
		for _, r := range oursRSS {
			lo, hi = math.Min(lo, r), math.Max(hi, r)
		}
		d.Debug2Goals["rss"] = fmt.Sprintf("%.1f–%.1f MiB from the smallest to the largest dump: %s", lo, hi, verdict(hi-lo < 4))
	}

	var lf loadFile
	if err := readJSON(p("load.json"), &lf); err != nil {
		missing("load.json", err)
	}
	d.Load, d.Repeat = lf.Runs, lf.Repeat
	lo, hi := math.Inf(1), 0.0
	for _, r := range d.Load {
		if r.MaxMs >= 1000 && r.MaxMs < 1100 && r.P99Ms < 500 {
			d.SynRetransmit = true
		}
		// Typical profiles: everything but the synthetic 10k-stack stress profile.
		if !strings.HasPrefix(r.Class, "synth") {
			lo, hi = math.Min(lo, r.ProbesPerCoreSec), math.Max(hi, r.ProbesPerCoreSec)
		}
	}
	if hi > 0 {
		verdict := "not met"
		if lo >= 2000 {
			verdict = "met"
		}
		d.LoadGoal = fmt.Sprintf("%.0f–%.0f probes per CPU-second on the small and mass-100k profiles, every connection mode and client count: %s", lo, hi, verdict)
	}
	for _, a := range d.Load {
		for _, b := range d.Load {
			if a.Class == b.Class && a.Concurrency == 1 && b.Concurrency == 1 && a.KeepAlive && !b.KeepAlive &&
				a.P50Ms > b.P50Ms+30 && d.Nagle == nil {
				d.Nagle = &nagleNote{Class: a.Class, KeepAliveP50: a.P50Ms, NewP50: b.P50Ms}
			}
		}
	}
	if data, err := os.ReadFile(p("steps.tsv")); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var st stepTime
			if _, err := fmt.Sscanf(l, "%s\t%f", &st.Step, &st.Seconds); err == nil {
				d.Steps = append(d.Steps, st)
			}
		}
	}
	if data, err := os.ReadFile(p("commands.txt")); err == nil {
		d.Commands = strings.TrimRight(string(data), "\n")
	}
	var w watchResult
	if err := readJSON(p("watch.json"), &w); err != nil {
		missing("watch.json", err)
	} else {
		d.Watch = &w
		verdict := "not met"
		if w.KBPerTarget < 50 && w.MarginalKB > 0 && w.MarginalKB < 50 {
			verdict = "met"
		}
		d.WatchGoal = fmt.Sprintf("%.1f KiB per target for %d targets after %.0f s (%.1f history points each); each more target with full history costs %.1f KiB: %s",
			w.KBPerTarget, w.Targets, w.WarmupSeconds+w.MeasureSeconds, w.EndPointsPerTgt, w.MarginalKB, verdict)
	}
	if err := readJSON(p("cost.json"), &d.Cost); err != nil {
		missing("cost.json", err)
	} else {
		d.CostGoal, d.CapsGoal = costGoals(d.Cost)
	}

	funcs := template.FuncMap{
		"f0":    func(x float64) string { return commas(fmt.Sprintf("%.0f", x)) },
		"f1":    func(x float64) string { return fmt.Sprintf("%.1f", x) },
		"f2":    func(x float64) string { return fmt.Sprintf("%.2f", x) },
		"f3":    func(x float64) string { return fmt.Sprintf("%.3f", x) },
		"pct":   func(x float64) string { return fmt.Sprintf("%.0f %%", x*100) },
		"pct1":  func(x float64) string { return fmt.Sprintf("%.1f %%", x*100) },
		"n":     func(x any) string { return commas(fmt.Sprint(x)) },
		"kib":   func(x int64) string { return fmt.Sprintf("%.1f", float64(x)/1024) },
		"mib":   func(x int64) string { return fmt.Sprintf("%.1f", float64(x)/1024) },
		"bytes": humanBytes,
		"mbs": func(x float64) string {
			if x >= 1000 {
				return fmt.Sprintf("%.2f GB/s", x/1000)
			}
			return fmt.Sprintf("%.0f MB/s", x)
		},
		"yes": func(b bool) string {
			if b {
				return "yes"
			}
			return "no"
		},
		"div": func(a, b float64) float64 {
			if b == 0 {
				return 0
			}
			return a / b
		},
		"fl": func(x any) float64 {
			switch v := x.(type) {
			case int:
				return float64(v)
			case int64:
				return float64(v)
			case float64:
				return v
			}
			return 0
		},
	}
	tmplText, err := os.ReadFile(*tmplPath)
	if err != nil {
		return err
	}
	t, err := template.New(filepath.Base(*tmplPath)).Funcs(funcs).Option("missingkey=error").Parse(string(tmplText))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return err
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}

func commas(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) > 3 {
		var b strings.Builder
		pre := len(intPart) % 3
		if pre > 0 {
			b.WriteString(intPart[:pre])
		}
		for i := pre; i < len(intPart); i += 3 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(intPart[i : i+3])
		}
		intPart = b.String()
	}
	if neg {
		intPart = "-" + intPart
	}
	if hasFrac {
		return intPart + "." + frac
	}
	return intPart
}

func humanBytes(x any) string {
	var v float64
	switch t := x.(type) {
	case int:
		v = float64(t)
	case int64:
		v = float64(t)
	case float64:
		v = t
	}
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// maxFewMs is what the cost goal's "a few milliseconds" is taken to mean. The goal is an upper
// bound ("no more than"), so it is judged on the worst probe of the default plan at each size,
// not on the median: a target's GC cycle falling inside one probe is a stall its users see.
const maxFewMs = 5.0

// costGoals judges the two cost-to-the-target goals from the cost results.
func costGoals(cost []costTarget) (stall, caps string) {
	if len(cost) == 0 {
		return "", ""
	}
	var parts []string
	medianMet, met, capsMet := true, true, true
	for _, c := range cost {
		parts = append(parts, fmt.Sprintf("%s goroutines: median %.1f ms, worst %.1f ms (direct debug=0 with the target's GC off: median %.1f ms)",
			commas(fmt.Sprint(c.Total)), c.DefaultPlanMedStallMs, c.DefaultPlanMaxStallMs, c.Debug0GCOffMedStallMs))
		if c.DefaultPlanMedStallMs > maxFewMs {
			medianMet = false
		}
		if c.DefaultPlanMaxStallMs > maxFewMs {
			met = false
		}
		if !c.PlannerRespects {
			capsMet = false
		}
	}
	verdict := "met"
	switch {
	case !medianMet:
		verdict = "not met"
	case !met:
		verdict = "not met (the medians are within it, the worst probes are not)"
	}
	stall = fmt.Sprintf("longest stall of any of the default plan's probes, at most %.0f ms wanted: %s: %s", maxFewMs, strings.Join(parts, "; "), verdict)
	caps = "the planner fetched debug=2 and goroutineleak only at or under their caps, each at most once per target: met"
	if !capsMet {
		caps = "the planner fetched an expensive format it should not have (see section 5): not met"
	}
	return stall, caps
}
