package main

import (
	"bufio"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"
)

type envInfo struct {
	Time        string            `json:"time"`
	CPUModel    string            `json:"cpu_model"`
	Cores       int               `json:"cores"`
	MemTotal    string            `json:"mem_total"`
	Kernel      string            `json:"kernel"`
	OS          string            `json:"os"`
	GXX         string            `json:"gxx"`
	Go          string            `json:"go"`
	BuildType   string            `json:"build_type"`
	LoadAvg     string            `json:"loadavg"`
	GitRevision string            `json:"git_revision"`
	Debs        map[string]string `json:"debs"`
	GoModules   map[string]string `json:"go_modules"`
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cmdEnv(args []string) error {
	fs := flag.NewFlagSet("env", flag.ExitOnError)
	out := fs.String("o", "env.json", "output JSON")
	gomod := fs.String("gomod", "bench/go/go.mod", "go.mod of the bench module")
	cache := fs.String("cmake-cache", "build/CMakeCache.txt", "CMakeCache.txt of the build")
	fs.Parse(args)

	e := envInfo{Time: time.Now().UTC().Format(time.RFC3339), Cores: runtime.NumCPU(),
		Debs: map[string]string{}, GoModules: map[string]string{}}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				e.MemTotal = strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:"))
			}
		}
	}
	e.Kernel = commandOutput("uname", "-r")
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		if m := regexp.MustCompile(`(?m)^PRETTY_NAME="?([^"\n]*)`).FindStringSubmatch(string(data)); m != nil {
			e.OS = m[1]
		}
	}
	e.GXX = firstLine(commandOutput("g++", "--version"))
	e.Go = commandOutput("go", "env", "GOVERSION")
	e.LoadAvg = loadAvg()
	e.GitRevision = commandOutput("git", "rev-parse", "--short", "HEAD")
	e.BuildType = "RelWithDebInfo (project default: -O2 -g)"
	if data, err := os.ReadFile(*cache); err == nil {
		if m := regexp.MustCompile(`(?m)^CMAKE_BUILD_TYPE:STRING=(\S+)`).FindStringSubmatch(string(data)); m != nil {
			e.BuildType = m[1]
		}
	}
	for _, p := range []string{"zlib1g-dev", "libprotobuf-dev", "prometheus-cpp-dev", "libcpp-httplib-dev",
		"libre2-dev", "libbenchmark-dev", "libyaml-cpp-dev"} {
		e.Debs[p] = commandOutput("dpkg-query", "-W", "-f", "${Version}", p)
	}
	if data, err := os.ReadFile(*gomod); err == nil {
		re := regexp.MustCompile(`(?m)^\s*(github\.com/google/pprof|github\.com/maruel/panicparse/v2|github\.com/DataDog/gostackparse)\s+(\S+)`)
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			e.GoModules[m[1]] = m[2]
		}
	}
	return writeJSON(*out, e)
}
