package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a long-running process under test (the exporter or a Go target).
type child struct {
	cmd  *exec.Cmd
	Addr string
	Line string // the whole line that announced the address
	done chan struct{}
}

// startChild runs argv and waits (bounded) for a line matching re on stdout or stderr; the
// first submatch is the listen address. Later output is discarded.
func startChild(argv []string, env []string, re *regexp.Regexp, timeout time.Duration) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	found := make(chan [2]string, 2)
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- [2]string{m[1], sc.Text()}:
				default:
				}
			}
		}
	}
	go scan(stdout)
	go scan(stderr)
	go func() { cmd.Wait(); close(c.done) }()
	select {
	case f := <-found:
		c.Addr, c.Line = f[0], f[1]
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited before listening", argv[0])
	case <-time.After(timeout):
		c.Stop()
		return nil, fmt.Errorf("%s: no listen line within %v", argv[0], timeout)
	}
}

var exporterListenRE = regexp.MustCompile(`msg=listening address=(\S+)`)

func startExporter(bin string, extra ...string) (*child, error) {
	argv := append([]string{bin, "--web.listen-address", "127.0.0.1:0"}, extra...)
	return startChild(argv, nil, exporterListenRE, 15*time.Second)
}

func (c *child) Pid() int { return c.cmd.Process.Pid }

// Stop ends the child it started (SIGTERM, then SIGKILL after 5 s).
func (c *child) Stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

var clockTicks = 100.0 // USER_HZ on Linux

// CPUSeconds is utime+stime of the process so far, from /proc/PID/stat.
func (c *child) CPUSeconds() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Pid()))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// fields after ")": state(0) ppid(1) ... utime(11) stime(12)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks
}

// MemKB returns VmRSS and VmHWM (peak RSS) in KiB from /proc/PID/status.
func (c *child) MemKB() (rss, hwm int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// Threads is the process's thread count.
func (c *child) Threads() int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "Threads:")))
			return n
		}
	}
	return 0
}
