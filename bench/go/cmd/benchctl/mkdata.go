package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// Inputs written by mkdata (file names relative to -out).
const (
	dump10k      = "mass-go1.27-10k.debug2.txt"
	dump119      = "mass-go1.19-100k.debug2.txt"
	dump127      = "mass-go1.27-100k.debug2.txt"
	dump64MiB    = "synth-64MiB-truncated.debug2.txt"
	synthDebug0  = "synth-10k-stacks.debug0.pb.gz"
	truncateSize = 64 << 20
)

type inputInfo struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	Bytes       int64  `json:"bytes"`
	Goroutines  int    `json:"goroutines"` // goroutine headers (debug=2) or sum of values (debug=0)
	Stacks      int    `json:"stacks,omitempty"`
	Samples     int    `json:"samples,omitempty"`
	Truncated   bool   `json:"truncated,omitempty"`
	Description string `json:"description"`
}

var headerRE = regexp.MustCompile(`(?m)^goroutine (\d+) \[`)

func gunzipFile(src string) ([]byte, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func countHeaders(b []byte) int {
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("goroutine ")) && bytes.HasSuffix(line, []byte(":")) {
			n++
		}
	}
	return n
}

// records splits a debug=2 dump into goroutine blocks (without the blank separator line).
func records(dump []byte) [][]byte {
	dump = bytes.TrimRight(dump, "\n")
	return bytes.Split(dump, []byte("\n\n"))
}

func cmdMkdata(args []string) error {
	fs := flag.NewFlagSet("mkdata", flag.ExitOnError)
	corpus := fs.String("corpus", "../shared/corpus", "corpus directory")
	out := fs.String("out", "build/bench-data", "output directory")
	manifest := fs.String("o", "", "manifest JSON (default OUT/inputs.json)")
	fs.Parse(args)
	if *manifest == "" {
		*manifest = filepath.Join(*out, "inputs.json")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var infos []inputInfo
	write := func(name string, data []byte, goroutines int, truncated bool, desc string) error {
		p := filepath.Join(*out, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		infos = append(infos, inputInfo{Name: name, Path: p, Bytes: int64(len(data)), Goroutines: goroutines,
			Truncated: truncated, Description: desc})
		logf("wrote %s (%d bytes, %d goroutines)", p, len(data), goroutines)
		return nil
	}

	d119, err := gunzipFile(filepath.Join(*corpus, "mass-go1.19-100k", "t1.goroutine.debug2.txt.gz"))
	if err != nil {
		return err
	}
	d127, err := gunzipFile(filepath.Join(*corpus, "mass-go1.27-100k", "t1.goroutine.debug2.txt.gz"))
	if err != nil {
		return err
	}
	recs := records(d127)
	if len(recs) < 10000 {
		return fmt.Errorf("mass-go1.27-100k has only %d records", len(recs))
	}
	cut := append(bytes.Join(recs[:10000], []byte("\n\n")), '\n')
	if err := write(dump10k, cut, countHeaders(cut), false,
		"first 10,000 records of mass-go1.27-100k (cut at a record boundary)"); err != nil {
		return err
	}
	if err := write(dump119, d119, countHeaders(d119), false, "corpus mass-go1.19-100k t1, gunzipped"); err != nil {
		return err
	}
	if err := write(dump127, d127, countHeaders(d127), false, "corpus mass-go1.27-100k t1, gunzipped"); err != nil {
		return err
	}

	// 64 MiB: the Go 1.27 records repeated with fresh, increasing goroutine ids, cut at exactly
	// 64 MiB (where the runtime's buffer stops), which falls mid-line.
	maxID := 0
	for _, m := range headerRE.FindAllSubmatch(d127, -1) {
		if id, _ := strconv.Atoi(string(m[1])); id > maxID {
			maxID = id
		}
	}
	var big bytes.Buffer
	big.Grow(truncateSize + 1<<20)
	next := maxID + 1
	for i := 0; big.Len() <= truncateSize; i++ {
		r := recs[i%len(recs)]
		if i >= len(recs) {
			loc := headerRE.FindSubmatchIndex(r)
			if loc != nil {
				var nr []byte
				nr = append(nr, r[:loc[2]]...)
				nr = strconv.AppendInt(nr, int64(next), 10)
				nr = append(nr, r[loc[3]:]...)
				r = nr
				next++
			}
		}
		if i > 0 {
			big.WriteString("\n\n")
		}
		big.Write(r)
	}
	trunc := big.Bytes()[:truncateSize]
	for trunc[len(trunc)-1] == '\n' { // make sure the cut is inside a line
		trunc = trunc[:len(trunc)-1]
	}
	if err := write(dump64MiB, trunc, countHeaders(trunc), true,
		"mass-go1.27-100k records repeated with increasing goroutine ids, cut at 64 MiB mid-line"); err != nil {
		return err
	}

	p, stacks, goroutines := synthProfile(10000)
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return err
	}
	if err := write(synthDebug0, buf.Bytes(), goroutines, false,
		"synthetic debug=0 profile written with github.com/google/pprof/profile: 10,000 distinct stacks"); err != nil {
		return err
	}
	infos[len(infos)-1].Stacks = stacks
	infos[len(infos)-1].Samples = len(p.Sample)
	return writeJSON(*manifest, infos)
}

// synthProfile builds a goroutine profile the way the Go runtime lays one out (one mapping,
// one location per PC, functions with start lines) with n distinct stacks: a runtime leaf
// that parks, a blocking primitive, 4-18 application frames drawn from 3,000 functions in 60
// packages, and a root. Deterministic (fixed seed). Returns the profile, its distinct stacks
// by function names, and the sum of the values.
func synthProfile(n int) (*profile.Profile, int, int) {
	rng := rand.New(rand.NewSource(20260101))
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "goroutine", Unit: "count"}},
		PeriodType: &profile.ValueType{Type: "goroutine", Unit: "count"},
		Period:     1,
		TimeNanos:  1767225600000000000,
	}
	mapping := &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x2000000, File: "/app/synth",
		HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	p.Mapping = []*profile.Mapping{mapping}

	funcs := map[string]*profile.Function{}
	fn := func(name, file string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name,
			Filename: file, StartLine: int64(10 + len(p.Function)%500)}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	locs := map[string]*profile.Location{}
	loc := func(f *profile.Function, line int64) *profile.Location {
		key := f.Name + ":" + strconv.FormatInt(line, 10)
		if l, ok := locs[key]; ok {
			return l
		}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: mapping,
			Address: 0x401000 + uint64(len(p.Location))*16, Line: []profile.Line{{Function: f, Line: line}}}
		locs[key] = l
		p.Location = append(p.Location, l)
		return l
	}

	type prim struct{ frames [][2]string }
	prims := []prim{
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"runtime.chanrecv", "runtime/chan.go"}, {"runtime.chanrecv1", "runtime/chan.go"}}},
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"runtime.chansend", "runtime/chan.go"}, {"runtime.chansend1", "runtime/chan.go"}}},
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"runtime.selectgo", "runtime/select.go"}}},
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"runtime.goparkunlock", "runtime/proc.go"}, {"sync.runtime_SemacquireMutex", "runtime/sema.go"}, {"sync.(*Mutex).lockSlow", "sync/mutex.go"}, {"sync.(*Mutex).Lock", "sync/mutex.go"}}},
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"runtime.netpollblock", "runtime/netpoll.go"}, {"internal/poll.runtime_pollWait", "runtime/netpoll.go"}, {"internal/poll.(*pollDesc).wait", "internal/poll/fd_poll_runtime.go"}, {"internal/poll.(*FD).Read", "internal/poll/fd_unix.go"}, {"net.(*conn).Read", "net/net.go"}}},
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"runtime.semacquire1", "runtime/sema.go"}, {"sync.runtime_SemacquireWaitGroup", "runtime/sema.go"}, {"sync.(*WaitGroup).Wait", "sync/waitgroup.go"}}},
		{[][2]string{{"runtime.gopark", "runtime/proc.go"}, {"time.Sleep", "runtime/time.go"}}},
	}
	const pkgs, perPkg = 60, 50
	appFunc := func(i int) *profile.Function {
		pkg := i / perPkg
		name := fmt.Sprintf("example.com/shop/internal/svc%02d.(*Handler%d).Method%02d", pkg, i%7, i%perPkg)
		return fn(name, fmt.Sprintf("example.com/shop/internal/svc%02d/handler%d.go", pkg, i%7))
	}
	goexit := fn("runtime.goexit", "runtime/asm_amd64.s")

	seen := map[string]bool{}
	goroutines := 0
	for len(p.Sample) < n {
		pr := prims[rng.Intn(len(prims))]
		depth := 4 + rng.Intn(15)
		var names []string
		var stack []*profile.Location
		for j, fr := range pr.frames {
			f := fn(fr[0], fr[1])
			stack = append(stack, loc(f, int64(100+j*7)))
			names = append(names, f.Name)
		}
		for j := 0; j < depth; j++ {
			f := appFunc(rng.Intn(pkgs * perPkg))
			stack = append(stack, loc(f, f.StartLine+int64(1+rng.Intn(40))))
			names = append(names, f.Name)
		}
		stack = append(stack, loc(goexit, 1700))
		key := strings.Join(names, "\n")
		if seen[key] {
			continue
		}
		seen[key] = true
		v := int64(1)
		if r := rng.Intn(100); r < 20 {
			v = int64(2 + rng.Intn(30))
		} else if r < 22 {
			v = int64(100 + rng.Intn(900))
		}
		s := &profile.Sample{Location: stack, Value: []int64{v}}
		if rng.Intn(10) == 0 {
			s.Label = map[string][]string{"route": {fmt.Sprintf("/api/v1/r%d", rng.Intn(40))}, "tenant": {fmt.Sprintf("t%d", rng.Intn(8))}}
		}
		p.Sample = append(p.Sample, s)
		goroutines += int(v)
	}
	if err := p.CheckValid(); err != nil {
		panic(err)
	}
	return p, len(seen), goroutines
}
