package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// API routes (also the only values of the "route" pprof label on request goroutines).
var apiRoutes = []string{"/api/checkout", "/api/enrich", "/api/search"}

func isAPIRoute(r string) bool {
	for _, x := range apiRoutes {
		if x == r {
			return true
		}
	}
	return false
}

func (a *app) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/api/checkout", a.instrument("/api/checkout", true, a.handleCheckout))
	mux.Handle("/api/enrich", a.instrument("/api/enrich", true, a.handleEnrich))
	mux.Handle("/api/search", a.instrument("/api/search", true, a.handleSearch))
	mux.Handle("/admin/leak", a.instrument("/admin/leak", false, a.handleLeak))
	mux.Handle("/admin/leaks", a.instrument("/admin/leaks", false, a.handleLeaks))
	mux.Handle("/admin/burst", a.instrument("/admin/burst", false, a.handleBurst))
	mux.Handle("/metrics", a.metricsHandler())
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("/", a.instrument("other", false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "shop: example Go backend for goroutine-exporter\n"+
			"API: %s\nadmin: POST /admin/leak?kind=K&rate=R, GET /admin/leaks, POST /admin/burst?n=N&hold=D\n"+
			"metrics: /metrics\npprof: http://%s/debug/pprof/\n", strings.Join(apiRoutes, " "), a.pprofAddr())
	}))
	return mux
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// tenantOf reads ?tenant=, then the X-Tenant header, default "t1"; bounded to 32 safe chars.
func tenantOf(r *http.Request) string {
	t := r.URL.Query().Get("tenant")
	if t == "" {
		t = r.Header.Get("X-Tenant")
	}
	if t == "" {
		return "t1"
	}
	if len(t) > 32 {
		t = t[:32]
	}
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			return c
		}
		return '_'
	}, t)
}

// instrument counts and times the request; API routes run under pprof labels route and tenant
// (pprof.Do), so every goroutine the handler starts carries them too.
func (a *app) instrument(route string, labeled bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if labeled {
			pprof.Do(r.Context(), pprof.Labels("route", route, "tenant", tenantOf(r)), func(ctx context.Context) {
				h(rec, r.WithContext(ctx))
			})
		} else {
			h(rec, r)
		}
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		a.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		a.duration.WithLabelValues(route).Observe(time.Since(begin).Seconds())
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// ---------------------------------------------------------------------------------------------
// API handlers: small real work (a few ms of CPU), no leaks. Their goroutines are joined.

func newOrderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkout prices a cart and computes a fraud score by iterated hashing.
func (a *app) handleCheckout(w http.ResponseWriter, r *http.Request) {
	items := 3
	if v := r.URL.Query().Get("items"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "items must be 1..100")
			return
		}
		items = n
	}
	tenant := tenantOf(r)
	id := newOrderID()
	total := 0
	for i := 0; i < items; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", id, i)))
		total += 100 + int(binary.BigEndian.Uint16(h[:2])%5000)
	}
	score := fraudScore(id+tenant, 12000)
	writeJSON(w, http.StatusOK, map[string]any{
		"order_id": id, "tenant": tenant, "items": items, "total_cents": total, "fraud_score": score,
	})
}

func fraudScore(seed string, rounds int) float64 {
	h := sha256.Sum256([]byte(seed))
	for i := 0; i < rounds; i++ {
		h = sha256.Sum256(h[:])
	}
	return float64(binary.BigEndian.Uint32(h[:4])) / math.MaxUint32
}

// enrich builds a profile from a synthetic document: word counts, top terms; the lookups of
// attributes run in a child goroutine (labeled, joined).
func (a *app) handleEnrich(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	user := r.URL.Query().Get("user")
	if user == "" {
		user = "u-" + newOrderID()[:6]
	}
	attrs := make(chan map[string]string, 1)
	go func() { attrs <- lookupAttributes(user) }() // joined below
	doc := syntheticDocument(user+tenant, 12000)
	counts := map[string]int{}
	for _, word := range strings.Fields(doc) {
		counts[word]++
	}
	type term struct {
		Word  string `json:"word"`
		Count int    `json:"count"`
	}
	terms := make([]term, 0, len(counts))
	for wd, c := range counts {
		terms = append(terms, term{wd, c})
	}
	sort.Slice(terms, func(i, j int) bool {
		if terms[i].Count != terms[j].Count {
			return terms[i].Count > terms[j].Count
		}
		return terms[i].Word < terms[j].Word
	})
	if len(terms) > 10 {
		terms = terms[:10]
	}
	var at map[string]string
	select {
	case at = <-attrs:
	case <-r.Context().Done():
		writeError(w, http.StatusServiceUnavailable, "cancelled")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user, "tenant": tenant, "attributes": at, "top_terms": terms})
}

var vocabulary = strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi " +
	"omicron pi rho sigma tau upsilon phi chi psi omega order cart price stock user tenant search shard")

func syntheticDocument(seed string, words int) string {
	h := sha256.Sum256([]byte(seed))
	var sb strings.Builder
	for i := 0; i < words; i++ {
		if i%16 == 0 {
			h = sha256.Sum256(h[:])
		}
		sb.WriteString(vocabulary[int(h[i%32])%len(vocabulary)])
		sb.WriteByte(' ')
	}
	return sb.String()
}

func lookupAttributes(user string) map[string]string {
	h := sha256.Sum256([]byte(user))
	for i := 0; i < 3000; i++ {
		h = sha256.Sum256(h[:])
	}
	return map[string]string{"segment": []string{"new", "regular", "vip"}[h[0]%3], "region": []string{"eu", "us", "apac"}[h[1]%3]}
}

// search fans out to shards the correct way: errgroup with a context and a limit, always joined.
func (a *app) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" {
		q = "shop"
	}
	g, ctx := errgroup.WithContext(r.Context())
	g.SetLimit(4)
	const shards = 8
	var mu sync.Mutex
	hits := make([]int, 0, shards*4)
	for s := 0; s < shards; s++ {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			found := searchShardIndex(s, q)
			mu.Lock()
			hits = append(hits, found...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	sort.Ints(hits)
	if len(hits) > 20 {
		hits = hits[:20]
	}
	writeJSON(w, http.StatusOK, map[string]any{"q": q, "tenant": tenantOf(r), "shards": shards, "hits": hits})
}

// searchShardIndex builds and sorts a small synthetic index, then binary-searches it.
func searchShardIndex(shard int, q string) []int {
	const n = 6000
	idx := make([]int, n)
	h := sha256.Sum256([]byte(fmt.Sprintf("%d:%s", shard, q)))
	x := binary.BigEndian.Uint64(h[:8]) | 1
	for i := range idx {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		idx[i] = int(x % 1000000)
	}
	sort.Ints(idx)
	var out []int
	for probe := 0; probe < 4; probe++ {
		target := int(h[8+probe]) * 3900
		i := sort.SearchInts(idx, target)
		if i < n {
			out = append(out, idx[i])
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Admin endpoints.

// POST /admin/leak?kind=K&rate=R[&tenant=T][&route=/api/...]
func (a *app) handleLeak(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	if _, ok := findLeakKind(kind); !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown kind %q (known: %s)", kind, strings.Join(leakKindNames(), ", ")))
		return
	}
	rate, err := parseRate(q.Get("rate"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	route := q.Get("route")
	if route != "" && !isAPIRoute(route) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("route must be one of %s", strings.Join(apiRoutes, ", ")))
		return
	}
	tenant := ""
	if q.Get("tenant") != "" {
		tenant = tenantOf(r)
	}
	if err := a.leaks.setRate(kind, rate, route, tenant); err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	a.log.Info("leak rate set", "kind", kind, "rate", rate)
	writeJSON(w, http.StatusOK, map[string]any{"kind": kind, "status": a.leaks.status()[kind]})
}

// GET /admin/leaks
func (a *app) handleLeaks(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"kinds":                   a.leaks.status(),
		"leaked_goroutines":       a.leaks.goroutines.Load(),
		"max_leaked":              a.leaks.maxLeaked,
		"burst_active":            a.burstActive.Load(),
		"burst_started":           a.burstStarted.Load(),
		"downstream_held":         a.down.held(),
		"goroutines":              runtime.NumGoroutine(),
		"downstream_delay":        a.cfg.downstreamDelay.String(),
		"ticker_interval_seconds": a.leaks.tickerInterval.Seconds(),
		"sleep_interval_seconds":  a.leaks.sleepInterval.Seconds(),
	})
}

const (
	maxBurst     = 200000
	maxBurstHold = 10 * time.Minute
)

// POST /admin/burst?n=N&hold=2s: N short-lived goroutines that block for hold, then exit.
func (a *app) handleBurst(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil || n < 1 || n > maxBurst {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("n must be 1..%d", maxBurst))
		return
	}
	hold := 2 * time.Second
	if v := q.Get("hold"); v != "" {
		hold, err = time.ParseDuration(v)
		if err != nil || hold <= 0 || hold > maxBurstHold {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("hold must be a duration in (0, %s]", maxBurstHold))
			return
		}
	}
	tenant := tenantOf(r)
	a.burstStarted.Add(int64(n))
	a.burstActive.Add(int64(n))
	pprof.Do(context.Background(), pprof.Labels("route", "/admin/burst", "tenant", tenant), func(context.Context) {
		for i := 0; i < n; i++ {
			go a.holdBurstSlot(hold)
		}
	})
	writeJSON(w, http.StatusAccepted, map[string]any{"started": n, "hold": hold.String(), "active": a.burstActive.Load()})
}

// holdBurstSlot is a request-like goroutine that waits for hold and exits: load, not a leak.
func (a *app) holdBurstSlot(hold time.Duration) {
	defer a.burstActive.Add(-1)
	time.Sleep(hold)
}
