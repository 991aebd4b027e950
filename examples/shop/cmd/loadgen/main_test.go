package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckLoopbackTarget(t *testing.T) {
	cases := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3:8080/base", true},
		{"http://localhost:1", true},
		{"https://[::1]:8443", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.10", false},
		{"http://example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"", false},
	}
	for _, c := range cases {
		_, err := checkLoopbackTarget(c.target)
		if (err == nil) != c.ok {
			t.Errorf("checkLoopbackTarget(%q) error = %v, want ok=%v", c.target, err, c.ok)
		}
	}
}

func TestRunSendsBoundedTraffic(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path+" "+r.URL.Query().Get("tenant")+" "+r.Header.Get("X-Tenant")]++
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	o := options{
		target: srv.URL, qps: 60, duration: 500 * time.Millisecond,
		routes: []string{"/a", "/b", "/c"}, tenants: []string{"t1", "t2"},
		timeout: 2 * time.Second, concurrency: 32,
	}
	s, err := run(context.Background(), o, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if s.sent != 30 || s.ok != 30 || s.errors != 0 || s.dropped != 0 {
		t.Fatalf("sent=%d ok=%d errors=%d dropped=%d, want 30 ok", s.sent, s.ok, s.errors, s.dropped)
	}
	if s.elapsed > 2*time.Second {
		t.Errorf("took %s", s.elapsed)
	}
	for _, key := range []string{"/a t1 t1", "/b t1 t1", "/c t1 t1", "/a t2 t2", "/b t2 t2", "/c t2 t2"} {
		if seen[key] != 5 {
			t.Errorf("%q: %d requests, want 5 (all: %v)", key, seen[key], seen)
		}
	}
	var out strings.Builder
	s.print(&out)
	if !strings.Contains(out.String(), "sent=30 ok=30 errors=0 dropped=0") || !strings.Contains(out.String(), "codes: 200=30") {
		t.Errorf("summary:\n%s", out.String())
	}

	o.maxRequests = 7
	if s, err = run(context.Background(), o, &strings.Builder{}); err != nil || s.sent != 7 {
		t.Errorf("max-requests 7: sent=%d err=%v", s.sent, err)
	}
}

func TestRunRefusesAndStops(t *testing.T) {
	o := options{target: "http://203.0.113.7:80", qps: 1, duration: time.Second, routes: []string{"/"}, tenants: []string{"t1"}, timeout: time.Second, concurrency: 1}
	if _, err := run(context.Background(), o, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("non-loopback target: err = %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	o.target, o.qps, o.duration = srv.URL, 10, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	s, err := run(ctx, o, &strings.Builder{})
	if err != nil || time.Since(begin) > 2*time.Second || s.sent < 2 || s.sent > 5 {
		t.Fatalf("cancelled run: sent=%d err=%v took %s", s.sent, err, time.Since(begin))
	}
}
