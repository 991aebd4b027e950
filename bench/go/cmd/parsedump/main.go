// Command parsedump parses one debug=2 goroutine dump with a third-party Go parser and prints
// one JSON line. It is run as its own process per input so that the caller can read the
// process's peak RSS (ru_maxrss), exactly like bench_stream for goroutine-exporter.
//
//	parsedump -parser gostackparse FILE   github.com/DataDog/gostackparse.Parse
//	parsedump -parser panicparse FILE     github.com/maruel/panicparse/v2/stack.ScanSnapshot
//
// Both parsers read the file through an *os.File (they buffer it themselves). panicparse runs
// with zero Opts (no argument naming, no path guessing, no source analysis), its fastest
// mode; it is called again on the remainder whenever it stops early, as its docs suggest.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/DataDog/gostackparse"
	"github.com/maruel/panicparse/v2/stack"
)

type result struct {
	Parser     string  `json:"parser"`
	Bytes      int64   `json:"bytes"`
	Goroutines int     `json:"goroutines"`
	Frames     int     `json:"frames"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	MaxRSSKB   int64   `json:"maxrss_kb"`
	Error      string  `json:"error"`
}

// countingReader counts the bytes the parser actually consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func main() {
	parser := flag.String("parser", "gostackparse", "gostackparse or panicparse")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: parsedump -parser gostackparse|panicparse FILE")
		os.Exit(2)
	}
	start := time.Now()
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	cr := &countingReader{r: f}
	res := result{Parser: *parser}
	switch *parser {
	case "gostackparse":
		gs, errs := gostackparse.Parse(cr)
		res.Goroutines = len(gs)
		for _, g := range gs {
			res.Frames += len(g.Stack)
		}
		res.Errors = len(errs)
	case "panicparse":
		var in io.Reader = cr
		for {
			snap, suffix, err := stack.ScanSnapshot(in, io.Discard, &stack.Opts{})
			if snap != nil {
				res.Goroutines += len(snap.Goroutines)
				for _, g := range snap.Goroutines {
					res.Frames += len(g.Stack.Calls)
				}
			}
			if err == io.EOF || (snap == nil && len(suffix) == 0) {
				break
			}
			if err != nil {
				res.Errors++
				res.Error = err.Error()
			}
			if len(suffix) == 0 && err != nil {
				break
			}
			// Skip the line it stopped at and go on with the rest.
			if i := bytes.IndexByte(suffix, '\n'); i >= 0 {
				suffix = suffix[i+1:]
			} else {
				suffix = nil
			}
			in = io.MultiReader(bytes.NewReader(suffix), bufio.NewReader(cr))
			_ = err
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown parser", *parser)
		os.Exit(2)
	}
	res.Seconds = time.Since(start).Seconds()
	res.Bytes = cr.n
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.MaxRSSKB = ru.Maxrss
	}
	json.NewEncoder(os.Stdout).Encode(res)
}
