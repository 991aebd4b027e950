// Command loadgen sends steady, bounded HTTP traffic to the shop example (or any loopback HTTP
// service): a fixed rate, for a fixed time and at most a fixed number of requests, round-robin
// over routes and tenants, and prints a summary. It refuses targets that are not on loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Hard bounds, whatever the flags say.
const (
	maxQPS         = 10000
	maxDuration    = 24 * time.Hour
	maxRequestsCap = 5_000_000
	maxConcurrency = 4096
)

type options struct {
	target      string
	qps         float64
	duration    time.Duration
	routes      []string
	tenants     []string
	timeout     time.Duration
	concurrency int
	maxRequests int
}

func main() {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	fs.StringVar(&o.target, "target", "", "base URL of the service, on loopback only (e.g. http://127.0.0.1:8080)")
	fs.Float64Var(&o.qps, "qps", 50, "requests per second (open loop)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long to send")
	routes := fs.String("routes", "/api/checkout,/api/enrich,/api/search", "comma-separated paths, used round-robin")
	tenants := fs.String("tenants", "t1,t2", "comma-separated tenants, sent as ?tenant= and X-Tenant")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.IntVar(&o.concurrency, "concurrency", 64, "max requests in flight; a request due while all are busy is dropped and counted")
	fs.IntVar(&o.maxRequests, "max-requests", 0, "stop after this many requests (0: qps x duration)")
	_ = fs.Parse(os.Args[1:])
	o.routes = splitList(*routes)
	o.tenants = splitList(*tenants)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(2)
	}
	s.print(os.Stdout)
	if s.sent > 0 && s.ok == 0 {
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// checkLoopbackTarget accepts only http(s) URLs whose host is localhost or a loopback IP.
func checkLoopbackTarget(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("-target: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-target %q: scheme must be http or https", target)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("-target %q: no host", target)
	}
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-target %q: refusing a non-loopback target (use 127.0.0.1, [::1] or localhost)", target)
	}
	return u, nil
}

func (o *options) validate() (*url.URL, error) {
	u, err := checkLoopbackTarget(o.target)
	if err != nil {
		return nil, err
	}
	if !(o.qps > 0 && o.qps <= maxQPS) {
		return nil, fmt.Errorf("-qps must be in (0, %d]", maxQPS)
	}
	if o.duration <= 0 || o.duration > maxDuration {
		return nil, fmt.Errorf("-duration must be in (0, %s]", maxDuration)
	}
	if len(o.routes) == 0 {
		return nil, errors.New("-routes is empty")
	}
	for _, r := range o.routes {
		if !strings.HasPrefix(r, "/") {
			return nil, fmt.Errorf("-routes: %q must start with /", r)
		}
	}
	if len(o.tenants) == 0 {
		return nil, errors.New("-tenants is empty")
	}
	if o.timeout <= 0 {
		return nil, errors.New("-timeout must be > 0")
	}
	if o.concurrency < 1 || o.concurrency > maxConcurrency {
		return nil, fmt.Errorf("-concurrency must be in [1, %d]", maxConcurrency)
	}
	planned := int(math.Ceil(o.qps * o.duration.Seconds()))
	if o.maxRequests <= 0 || o.maxRequests > planned {
		o.maxRequests = planned
	}
	if o.maxRequests > maxRequestsCap {
		o.maxRequests = maxRequestsCap
	}
	return u, nil
}

// loopbackDialer refuses to connect anywhere but loopback, whatever a name resolves to.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("refusing to dial non-loopback address %s", address)
			}
			return nil
		},
	}
}

type routeStats struct {
	lat []time.Duration
}

type summary struct {
	target   string
	elapsed  time.Duration
	sent     int
	ok       int // 2xx
	errors   int // transport errors and timeouts
	dropped  int // due while -concurrency requests were in flight
	codes    map[int]int
	errKinds map[string]int
	all      []time.Duration
	perRoute map[string]*routeStats
}

func run(ctx context.Context, o options, log io.Writer) (*summary, error) {
	base, err := o.validate()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         loopbackDialer().DialContext,
		MaxIdleConns:        o.concurrency,
		MaxIdleConnsPerHost: o.concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		Timeout:   o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never follow a redirect off loopback
		},
	}

	s := &summary{target: base.String(), codes: map[int]int{}, errKinds: map[string]int{}, perRoute: map[string]*routeStats{}}
	for _, r := range o.routes {
		s.perRoute[r] = &routeStats{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, o.concurrency)
	interval := time.Duration(float64(time.Second) / o.qps)
	start := time.Now()
	end := start.Add(o.duration)
	fmt.Fprintf(log, "loadgen: %s qps=%g duration=%s max-requests=%d routes=%s tenants=%s\n",
		base, o.qps, o.duration, o.maxRequests, strings.Join(o.routes, ","), strings.Join(o.tenants, ","))

	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := 0; i < o.maxRequests; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(end) {
			break
		}
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break loop
		}
		route := o.routes[i%len(o.routes)]
		tenant := o.tenants[(i/len(o.routes))%len(o.tenants)]
		select {
		case slots <- struct{}{}:
		default:
			mu.Lock()
			s.dropped++
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			code, lat, err := send(ctx, client, base, route, tenant)
			mu.Lock()
			defer mu.Unlock()
			s.sent++
			if err != nil {
				s.errors++
				s.errKinds[errKind(err)]++
				return
			}
			s.codes[code]++
			if code >= 200 && code < 300 {
				s.ok++
			}
			s.all = append(s.all, lat)
			s.perRoute[route].lat = append(s.perRoute[route].lat, lat)
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	return s, nil
}

func send(ctx context.Context, client *http.Client, base *url.URL, route, tenant string) (int, time.Duration, error) {
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + route
	q := u.Query()
	q.Set("tenant", tenant)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("X-Tenant", tenant)
	begin := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	return resp.StatusCode, time.Since(begin), nil
}

func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "refused"
	default:
		return "other"
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func latencyLine(lat []time.Duration) string {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	return fmt.Sprintf("p50=%s p90=%s p99=%s max=%s", r(percentile(lat, .5)), r(percentile(lat, .9)),
		r(percentile(lat, .99)), r(percentile(lat, 1)))
}

func (s *summary) print(w io.Writer) {
	qps := 0.0
	if s.elapsed > 0 {
		qps = float64(s.sent) / s.elapsed.Seconds()
	}
	fmt.Fprintf(w, "loadgen summary: target=%s elapsed=%s sent=%d ok=%d errors=%d dropped=%d achieved_qps=%.1f\n",
		s.target, s.elapsed.Round(time.Millisecond), s.sent, s.ok, s.errors, s.dropped, qps)
	var codes []string
	for _, c := range sortedInts(s.codes) {
		codes = append(codes, fmt.Sprintf("%d=%d", c, s.codes[c]))
	}
	fmt.Fprintf(w, "  codes: %s\n", strings.Join(codes, " "))
	if len(s.errKinds) > 0 {
		var kinds []string
		for k, n := range s.errKinds {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "  errors: %s\n", strings.Join(kinds, " "))
	}
	fmt.Fprintf(w, "  latency: %s\n", latencyLine(s.all))
	routes := make([]string, 0, len(s.perRoute))
	for r := range s.perRoute {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		fmt.Fprintf(w, "  %s: n=%d %s\n", r, len(s.perRoute[r].lat), latencyLine(s.perRoute[r].lat))
	}
}

func sortedInts(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
