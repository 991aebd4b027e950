package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tests start the service in-process on 127.0.0.1:0 and talk to it over loopback only.
// They run sequentially: goroutine counts are measured as deltas of runtime.NumGoroutine().
// Leaked goroutines stay blocked until the test binary exits (that is what a leak is).

var testClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
}

func startTestApp(t *testing.T, mutate func(*config)) *app {
	t.Helper()
	cfg := defaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	var out bytes.Buffer
	a, err := start(cfg, &out)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(a.close)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^api listening on 127\.0\.0\.1:\d+$`),
		regexp.MustCompile(`^pprof listening on 127\.0\.0\.1:\d+$`),
		regexp.MustCompile(`^downstream listening on 127\.0\.0\.1:\d+$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("startup output: got %q, want 3 lines", out.String())
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Fatalf("startup line %d: %q does not match %s", i, lines[i], re)
		}
	}
	return a
}

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, string(body)
}

type leaksResponse struct {
	Kinds            map[string]leakStatus `json:"kinds"`
	LeakedGoroutines int64                 `json:"leaked_goroutines"`
	MaxLeaked        int64                 `json:"max_leaked"`
	BurstActive      int64                 `json:"burst_active"`
	Goroutines       int                   `json:"goroutines"`
}

func getLeaks(t *testing.T, a *app) leaksResponse {
	t.Helper()
	code, body := do(t, http.MethodGet, "http://"+a.apiAddr()+"/admin/leaks")
	if code != http.StatusOK {
		t.Fatalf("GET /admin/leaks: %d %s", code, body)
	}
	var lr leaksResponse
	if err := json.Unmarshal([]byte(body), &lr); err != nil {
		t.Fatalf("decode /admin/leaks: %v\n%s", err, body)
	}
	return lr
}

func setLeak(t *testing.T, a *app, kind string, rate float64) {
	t.Helper()
	code, body := do(t, http.MethodPost, fmt.Sprintf("http://%s/admin/leak?kind=%s&rate=%g", a.apiAddr(), kind, rate))
	if code != http.StatusOK {
		t.Fatalf("POST /admin/leak kind=%s rate=%g: %d %s", kind, rate, code, body)
	}
}

// waitFor polls cond every 20ms until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settledGoroutines waits until runtime.NumGoroutine() stops changing (connection goroutines
// of finished requests exit asynchronously) and returns it.
func settledGoroutines() int {
	prev := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		time.Sleep(30 * time.Millisecond)
		cur := runtime.NumGoroutine()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}

func TestParseLeakSpec(t *testing.T) {
	cases := []struct {
		spec    string
		want    map[string]float64
		wantErr string
	}{
		{"", map[string]float64{}, ""},
		{"chan_send=5", map[string]float64{"chan_send": 5}, ""},
		{" chan_send=5 , mutex=0.5,", map[string]float64{"chan_send": 5, "mutex": 0.5}, ""},
		{"http_client=0", map[string]float64{"http_client": 0}, ""},
		{"nope=1", nil, `leak "nope": unknown kind`},
		{"chan_send", nil, `leak "chan_send": want kind=rate`},
		{"chan_send=x", nil, `leak "chan_send": rate "x" is not a number`},
		{"chan_send=-1", nil, `leak "chan_send": rate -1 out of range`},
	}
	for _, c := range cases {
		got, err := parseLeakSpec(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
				t.Errorf("parseLeakSpec(%q) error = %v, want prefix %q", c.spec, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseLeakSpec(%q): %v", c.spec, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("parseLeakSpec(%q) = %v, want %v", c.spec, got, c.want)
		}
	}
}

func TestAPIAndMetrics(t *testing.T) {
	a := startTestApp(t, nil)
	base := "http://" + a.apiAddr()
	for _, route := range apiRoutes {
		for _, tenant := range []string{"t1", "t2"} {
			code, body := do(t, http.MethodGet, base+route+"?tenant="+tenant)
			if code != http.StatusOK || !strings.Contains(body, `"tenant": "`+tenant+`"`) {
				t.Fatalf("GET %s tenant=%s: %d %s", route, tenant, code, body)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/search?q=shoes", nil)
	req.Header.Set("X-Tenant", "t3")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"tenant": "t3"`) {
		t.Fatalf("X-Tenant not used: %s", body)
	}
	if code, _ := do(t, http.MethodGet, base+"/api/checkout?items=1000"); code != http.StatusBadRequest {
		t.Fatalf("checkout items=1000: got %d, want 400", code)
	}

	code, metrics := do(t, http.MethodGet, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`http_requests_total{code="200",route="/api/checkout"} 2`,
		`http_requests_total{code="200",route="/api/search"} 3`,
		`http_requests_total{code="400",route="/api/checkout"} 1`,
		`http_request_duration_seconds_bucket{route="/api/enrich",le="0.1"}`,
		`http_request_duration_seconds_count{route="/api/enrich"} 2`,
		"\ngo_goroutines ",
		"\nprocess_resident_memory_bytes ",
		`shop_leaked_goroutines{category="chan_send",kind="chan_send"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestPprofOnItsOwnListener(t *testing.T) {
	a := startTestApp(t, nil)
	if code, _ := do(t, http.MethodGet, "http://"+a.apiAddr()+"/debug/pprof/goroutine?debug=1"); code != http.StatusNotFound {
		t.Errorf("pprof reachable on the API listener: %d", code)
	}
	code, body := do(t, http.MethodGet, "http://"+a.pprofAddr()+"/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.HasPrefix(body, "goroutine profile: total ") {
		t.Fatalf("pprof goroutine?debug=1: %d %.200s", code, body)
	}
	code, body = do(t, http.MethodGet, "http://"+a.pprofAddr()+"/debug/pprof/goroutine")
	if code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Fatalf("pprof goroutine (debug=0) is not gzip: %d", code)
	}
}

func TestAdminErrors(t *testing.T) {
	a := startTestApp(t, nil)
	base := "http://" + a.apiAddr()
	cases := []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/admin/leak?kind=chan_send&rate=1", http.StatusMethodNotAllowed},
		{http.MethodPost, "/admin/leak?kind=nope&rate=1", http.StatusBadRequest},
		{http.MethodPost, "/admin/leak?kind=chan_send&rate=abc", http.StatusBadRequest},
		{http.MethodPost, "/admin/leak?kind=chan_send&rate=1e9", http.StatusBadRequest},
		{http.MethodPost, "/admin/leak?kind=chan_send&rate=0&route=/x", http.StatusBadRequest},
		{http.MethodPost, "/admin/leaks", http.StatusMethodNotAllowed},
		{http.MethodPost, "/admin/burst?n=0", http.StatusBadRequest},
		{http.MethodPost, "/admin/burst?n=10&hold=forever", http.StatusBadRequest},
		{http.MethodGet, "/admin/burst?n=10", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nope", http.StatusNotFound},
	}
	for _, c := range cases {
		if code, body := do(t, c.method, base+c.path); code != c.code {
			t.Errorf("%s %s: got %d, want %d (%s)", c.method, c.path, code, c.code, body)
		}
	}
}

// TestLeaksAccumulate turns each kind on at 100/s for 0.5 s, turns it off, and checks that the
// leaked goroutines are really there (runtime.NumGoroutine), stay there, stop growing, and carry
// the route/tenant/leak_kind labels in the goroutine profile.
func TestLeaksAccumulate(t *testing.T) {
	a := startTestApp(t, nil)
	for _, k := range leakKinds {
		before := settledGoroutines()
		setLeak(t, a, k.name, 100)
		time.Sleep(500 * time.Millisecond)
		setLeak(t, a, k.name, 0)

		st := getLeaks(t, a).Kinds[k.name]
		if st.Leaked < 25 || st.Leaked > 75 || st.Started != st.Leaked || st.Failed != 0 {
			t.Errorf("%s: after 0.5 s at 100/s: %+v (want ~50 leaked, none failed)", k.name, st)
			continue
		}
		want := int(st.Leaked * k.perEvent)
		var got int
		if !waitFor(3*time.Second, func() bool { got = runtime.NumGoroutine() - before; return got == want }) {
			t.Errorf("%s: goroutines grew by %d, want %d (%d events x %d)", k.name, got, want, st.Leaked, k.perEvent)
		}
		time.Sleep(150 * time.Millisecond)
		if again := getLeaks(t, a).Kinds[k.name]; again.Started != st.Started || again.Leaked != st.Leaked {
			t.Errorf("%s: still leaking after rate=0: %+v then %+v", k.name, st, again)
		}
		t.Logf("%-15s leaked %d events, +%d goroutines", k.name, st.Leaked, got)
	}

	_, prof := do(t, http.MethodGet, "http://"+a.pprofAddr()+"/debug/pprof/goroutine?debug=1")
	for _, k := range leakKinds {
		want := fmt.Sprintf(`"leak_kind":"%s", "route":"%s", "tenant":"t1"`, k.name, k.route)
		if !strings.Contains(prof, want) {
			t.Errorf("goroutine profile lacks labels %s", want)
		}
	}
	lr := getLeaks(t, a)
	var sum int64
	for _, st := range lr.Kinds {
		sum += st.Leaked * st.GoroutinesPerLeak
	}
	if lr.LeakedGoroutines != sum {
		t.Errorf("leaked_goroutines %d != sum over kinds %d", lr.LeakedGoroutines, sum)
	}
}

func TestBurstDrains(t *testing.T) {
	a := startTestApp(t, nil)
	const n = 2000
	before := settledGoroutines()
	code, body := do(t, http.MethodPost, "http://"+a.apiAddr()+"/admin/burst?n=2000&hold=400ms&tenant=t2")
	if code != http.StatusAccepted {
		t.Fatalf("burst: %d %s", code, body)
	}
	if peak := runtime.NumGoroutine(); peak < before+n {
		t.Fatalf("during burst: %d goroutines, want >= %d", peak, before+n)
	}
	if lr := getLeaks(t, a); lr.BurstActive == 0 || lr.LeakedGoroutines != 0 {
		t.Errorf("during burst: %+v", lr)
	}
	var now int
	if !waitFor(5*time.Second, func() bool { now = runtime.NumGoroutine(); return now <= before+2 }) {
		t.Fatalf("burst did not drain: %d goroutines, baseline %d", now, before)
	}
	if lr := getLeaks(t, a); lr.BurstActive != 0 {
		t.Errorf("burst_active = %d after drain", lr.BurstActive)
	}
}

func TestMaxLeakedCap(t *testing.T) {
	a := startTestApp(t, func(c *config) { c.maxLeaked = 30 })
	setLeak(t, a, "http_client", 1000) // 3 goroutines per event
	if !waitFor(3*time.Second, func() bool { return getLeaks(t, a).Kinds["http_client"].Capped > 0 }) {
		t.Fatal("cap never reached")
	}
	setLeak(t, a, "mutex", 1000)
	time.Sleep(100 * time.Millisecond)
	setLeak(t, a, "http_client", 0)
	setLeak(t, a, "mutex", 0)
	lr := getLeaks(t, a)
	if lr.LeakedGoroutines != 30 || lr.Kinds["http_client"].Leaked != 10 || lr.Kinds["mutex"].Leaked != 0 {
		t.Errorf("cap 30: leaked_goroutines=%d http_client=%+v mutex=%+v", lr.LeakedGoroutines, lr.Kinds["http_client"], lr.Kinds["mutex"])
	}
}

func TestStartupLeakFlagAndSlowAnswer(t *testing.T) {
	// The downstream answers after 200ms, so http_client calls are slow, not leaked.
	a := startTestApp(t, func(c *config) {
		c.leaks = map[string]float64{"http_client": 50, "select": 50}
		c.downstreamDelay = 200 * time.Millisecond
	})
	time.Sleep(400 * time.Millisecond)
	code, _ := do(t, http.MethodPost, "http://"+a.apiAddr()+"/admin/leak?kind=http_client&rate=0")
	if code != http.StatusOK {
		t.Fatal(code)
	}
	setLeak(t, a, "select", 0)
	lr := getLeaks(t, a)
	if lr.Kinds["http_client"].Started < 10 || lr.Kinds["select"].Leaked < 10 {
		t.Fatalf("startup leaks did not run: %+v", lr.Kinds)
	}
	if !waitFor(3*time.Second, func() bool { return getLeaks(t, a).Kinds["http_client"].Leaked == 0 }) {
		t.Fatalf("slow downstream never answered: %+v", getLeaks(t, a).Kinds["http_client"])
	}
	if st := getLeaks(t, a).Kinds["http_client"]; st.Failed != 0 {
		t.Errorf("http_client calls failed: %+v", st)
	}
	if n := a.down.answered.Load(); n < 10 {
		t.Errorf("downstream answered %d requests", n)
	}
}
