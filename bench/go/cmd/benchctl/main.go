// Command benchctl drives the goroutine-exporter benchmarks (docs/BENCHMARKS.md). bench/run.sh
// calls its subcommands in order; each writes one JSON file of results, and `report` turns
// all of them into docs/BENCHMARKS.md through bench/BENCHMARKS.md.tmpl.
//
//	benchctl env     -o F                       machine, versions, load average
//	benchctl mkdata  -corpus D -out D           gunzip / cut / synthesize the inputs
//	benchctl debug0  -o F NAME=PATH...          Go peer: pprof profile.Parse + aggregation
//	benchctl parse   -o F ... INPUT...          debug=2 parsers, one process per run (peak RSS)
//	benchctl load    -o F -exporter BIN ...     /probe throughput against a loopback farm
//	benchctl watch   -o F -exporter BIN ...     watch mode with 1,000 targets
//	benchctl cost    -o F -exporter BIN -target BIN   stall seen by the target per fetch
//	benchctl report  -results D -template F -out F
//
// Every network address is on 127.0.0.1; every loop is bounded in count and time.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmds := map[string]func([]string) error{
		"env":    cmdEnv,
		"mkdata": cmdMkdata,
		"debug0": cmdDebug0,
		"parse":  cmdParse,
		"load":   cmdLoad,
		"watch":  cmdWatch,
		"cost":   cmdCost,
		"report": cmdReport,
	}
	fn, ok := cmds[os.Args[1]]
	if !ok {
		usage()
	}
	if err := fn(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchctl %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchctl env|mkdata|debug0|parse|load|watch|cost|report [flags]")
	os.Exit(2)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchctl: "+format+"\n", args...)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// quantile of sorted xs (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.5)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func numCPU() int { return runtime.NumCPU() }
