package main

// Leak switches. Every kind below reproduces one real goroutine-leak pattern. A leak "event"
// starts the goroutine(s) of one buggy code path under the pprof labels of the API route that
// owns that code path (route=..., tenant=..., leak_kind=...), exactly as if a request handler had
// started them, so the labels travel with the leaked goroutines into goroutine profiles.
//
// The code paths are written the way the bugs look in real services: an unbuffered queue whose
// consumer was never started, a reply channel nobody answers, an outbound HTTP call without a
// timeout, a WaitGroup whose error path forgets Done, a ticker loop without a ctx.Done() exit,
// and so on. Their function names are what the exporter shows as the first application frame.

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// leakKind describes one leak switch.
type leakKind struct {
	name string
	// route is the API route whose code path leaks (the pprof "route" label).
	route string
	// category is what the goroutine-exporter should report for the leaked goroutines.
	category string
	// perEvent is how many goroutines one event leaks (http_client: caller + transport
	// readLoop + writeLoop).
	perEvent int64
	// start runs one event. It starts the leaking goroutine(s) and returns at once; done must
	// be called if a leaked goroutine ever returns (only http_client with -downstream-delay).
	start func(m *leakManager, tenant string, done func(err error))
}

// leakKinds is the dispatch table of all leak kinds, in a stable order.
var leakKinds = []leakKind{
	{"chan_send", "/api/checkout", "chan_send", 1, leakChanSend},
	{"chan_receive", "/api/checkout", "chan_receive", 1, leakChanReceive},
	{"http_client", "/api/enrich", "http_client", 3, leakHTTPClient},
	{"fanout_no_join", "/api/search", "wait_group", 1, leakFanoutNoJoin},
	{"ticker_loop", "/api/enrich", "chan_receive", 1, leakTickerLoop},
	{"sleep_loop", "/api/search", "timer", 1, leakSleepLoop},
	{"mutex", "/api/checkout", "mutex", 1, leakMutex},
	{"select", "/api/enrich", "select", 1, leakSelect},
	{"semaphore", "/api/search", "semaphore", 1, leakSemaphore},
}

func findLeakKind(name string) (*leakKind, bool) {
	for i := range leakKinds {
		if leakKinds[i].name == name {
			return &leakKinds[i], true
		}
	}
	return nil, false
}

func leakKindNames() []string {
	names := make([]string, len(leakKinds))
	for i, k := range leakKinds {
		names[i] = k.name
	}
	return names
}

// parseLeakSpec parses the -leak flag: "kind=rate,kind2=rate" (rates are per second, >= 0).
func parseLeakSpec(spec string) (map[string]float64, error) {
	out := map[string]float64{}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return out, nil
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, rateText, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("leak %q: want kind=rate", part)
		}
		name = strings.TrimSpace(name)
		if _, ok := findLeakKind(name); !ok {
			return nil, fmt.Errorf("leak %q: unknown kind (known: %s)", name, strings.Join(leakKindNames(), ", "))
		}
		rate, err := parseRate(strings.TrimSpace(rateText))
		if err != nil {
			return nil, fmt.Errorf("leak %q: %v", name, err)
		}
		out[name] = rate
	}
	return out, nil
}

// maxLeakRate bounds a single kind's rate; the -max-leaked cap bounds the total.
const maxLeakRate = 100000

func parseRate(s string) (float64, error) {
	var rate float64
	if _, err := fmt.Sscanf(s, "%g", &rate); err != nil || s == "" {
		return 0, fmt.Errorf("rate %q is not a number", s)
	}
	if rate < 0 || rate > maxLeakRate || rate != rate {
		return 0, fmt.Errorf("rate %g out of range [0, %d]", rate, maxLeakRate)
	}
	return rate, nil
}

// kindState is the live state of one leak kind.
type kindState struct {
	kind *leakKind

	// guarded by leakManager.mu
	rate   float64
	tenant string
	route  string
	cancel context.CancelFunc

	started atomic.Int64 // events started
	leaked  atomic.Int64 // events whose goroutines are still blocked
	failed  atomic.Int64 // events whose goroutines returned with an error (e.g. dial failed)
	capped  atomic.Int64 // events refused because of -max-leaked
}

// leakManager owns the spawners and the shared state the buggy code paths block on.
type leakManager struct {
	maxLeaked      int64
	tickerInterval time.Duration
	sleepInterval  time.Duration
	labelKind      bool // add the leak_kind pprof label (ground truth for tests)
	downstreamURL  string
	client         *http.Client

	// Shared state that the leaks block on.
	orders    *orderEvents        // chan_send: consumer never started
	inventory *legacyInventory    // mutex: lock held forever by a failed reconcile
	exports   *semaphore.Weighted // semaphore: every slot taken by stuck exports

	goroutines atomic.Int64 // estimated leaked goroutines, all kinds (compared to maxLeaked)

	mu    sync.Mutex
	kinds map[string]*kindState
	stop  bool
}

const exportSlots = 8

func newLeakManager(cfg config, downstreamURL string) *leakManager {
	m := &leakManager{
		maxLeaked:      cfg.maxLeaked,
		tickerInterval: cfg.tickerInterval,
		sleepInterval:  cfg.sleepInterval,
		labelKind:      cfg.leakLabel,
		downstreamURL:  downstreamURL,
		orders:         &orderEvents{ch: make(chan orderEvent)},
		inventory:      &legacyInventory{stock: map[string]int{}},
		exports:        semaphore.NewWeighted(exportSlots),
		kinds:          map[string]*kindState{},
	}
	// BUG (on purpose): outbound client without any timeout, and the transport's dialer has
	// none either; requests are made without a context.
	m.client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	// A reconcile job that panicked while holding the inventory lock (and recovered without
	// unlocking): the lock is held forever.
	m.inventory.reconcileAfterCrash()
	// Stuck report exports hold every semaphore slot forever.
	if !m.exports.TryAcquire(exportSlots) {
		panic("semaphore not empty at start")
	}
	for i := range leakKinds {
		k := &leakKinds[i]
		m.kinds[k.name] = &kindState{kind: k, tenant: "t1", route: k.route}
	}
	return m
}

// setRate (re)starts or stops the spawner of one kind. rate 0 stops creating new leaks; the
// goroutines already leaked stay blocked.
func (m *leakManager) setRate(name string, rate float64, route, tenant string) error {
	st, ok := m.kinds[name]
	if !ok {
		return fmt.Errorf("unknown leak kind %q (known: %s)", name, strings.Join(leakKindNames(), ", "))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop {
		return fmt.Errorf("shutting down")
	}
	if st.cancel != nil {
		st.cancel()
		st.cancel = nil
	}
	st.rate = rate
	if route != "" {
		st.route = route
	}
	if tenant != "" {
		st.tenant = tenant
	}
	if rate <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	go m.spawner(ctx, st, rate, st.route, st.tenant)
	return nil
}

// stopAll stops every spawner (leaked goroutines stay).
func (m *leakManager) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stop = true
	for _, st := range m.kinds {
		if st.cancel != nil {
			st.cancel()
			st.cancel = nil
		}
		st.rate = 0
	}
}

// spawner starts events at the given rate until cancelled. It catches up on ticks it missed,
// so the achieved rate matches the requested one also above the tick frequency.
func (m *leakManager) spawner(ctx context.Context, st *kindState, rate float64, route, tenant string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("component", "leak-spawner")))
	period := time.Duration(float64(time.Second) / rate)
	if period < 5*time.Millisecond {
		period = 5 * time.Millisecond
	}
	if period > time.Second {
		period = time.Second
	}
	start := time.Now()
	var made int64
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := int64(now.Sub(start).Seconds() * rate)
			for made < due {
				if ctx.Err() != nil {
					return
				}
				m.spawnOne(st, route, tenant)
				made++
			}
		}
	}
}

// spawnOne runs one leak event of st's kind under request-like pprof labels.
func (m *leakManager) spawnOne(st *kindState, route, tenant string) bool {
	k := st.kind
	if m.goroutines.Add(k.perEvent) > m.maxLeaked {
		m.goroutines.Add(-k.perEvent)
		st.capped.Add(1)
		return false
	}
	st.started.Add(1)
	st.leaked.Add(1)
	var once sync.Once
	done := func(err error) {
		once.Do(func() {
			st.leaked.Add(-1)
			m.goroutines.Add(-k.perEvent)
			if err != nil {
				st.failed.Add(1)
			}
		})
	}
	labels := []string{"route", route, "tenant", tenant}
	if m.labelKind {
		labels = append(labels, "leak_kind", k.name)
	}
	pprof.Do(context.Background(), pprof.Labels(labels...), func(context.Context) {
		k.start(m, tenant, done)
	})
	return true
}

// leakStatus is one kind in GET /admin/leaks.
type leakStatus struct {
	Rate              float64 `json:"rate"`
	Route             string  `json:"route"`
	Tenant            string  `json:"tenant"`
	Started           int64   `json:"started"`
	Leaked            int64   `json:"leaked"`
	Failed            int64   `json:"failed"`
	Capped            int64   `json:"capped"`
	GoroutinesPerLeak int64   `json:"goroutines_per_leak"`
	ExpectedCategory  string  `json:"expected_category"`
}

func (m *leakManager) status() map[string]leakStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]leakStatus, len(m.kinds))
	for name, st := range m.kinds {
		out[name] = leakStatus{
			Rate:              st.rate,
			Route:             st.route,
			Tenant:            st.tenant,
			Started:           st.started.Load(),
			Leaked:            st.leaked.Load(),
			Failed:            st.failed.Load(),
			Capped:            st.capped.Load(),
			GoroutinesPerLeak: st.kind.perEvent,
			ExpectedCategory:  st.kind.category,
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// The buggy code paths. Each start function returns at once; the goroutines it starts block.

// chan_send: checkout publishes an order event into an unbuffered queue whose consumer was
// never started (backpressure with no ctx.Done() edge and no bound/drop policy).
type orderEvent struct {
	ID     string
	Tenant string
	Total  int
}

type orderEvents struct{ ch chan orderEvent }

func (q *orderEvents) publish(ev orderEvent) {
	q.ch <- ev // blocks forever: nobody drains q.ch
}

func leakChanSend(m *leakManager, tenant string, _ func(error)) {
	go m.orders.publish(orderEvent{ID: newOrderID(), Tenant: tenant, Total: 42})
}

// chan_receive: checkout waits for a payment-provider callback on a reply channel that nobody
// will ever send on (the callback registration was dropped).
type paymentResult struct {
	OK  bool
	Ref string
}

func awaitPaymentCallback(reply <-chan paymentResult) {
	res := <-reply // blocks forever
	_ = res
}

func leakChanReceive(_ *leakManager, _ string, _ func(error)) {
	reply := make(chan paymentResult)
	go awaitPaymentCallback(reply)
}

// http_client: enrich calls the slow downstream with a client that has no timeout and a
// request without a context. Leaves the caller in Transport.RoundTrip plus the connection's
// readLoop and writeLoop goroutines.
func fetchEnrichment(client *http.Client, url string, done func(error)) {
	resp, err := client.Get(url) // no timeout, no context
	if err != nil {
		done(err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	done(nil)
}

func leakHTTPClient(m *leakManager, tenant string, done func(error)) {
	go fetchEnrichment(m.client, m.downstreamURL+"/v1/profile?tenant="+tenant, done)
}

// fanout_no_join: search fans out to shards with a WaitGroup; the error path of a shard
// returns without wg.Done(), so the collector blocks in wg.Wait() forever.
const searchShards = 4

func searchShard(shard int, query string, wg *sync.WaitGroup, results chan<- int) {
	hits, err := scanShard(shard, query)
	if err != nil {
		return // BUG: missing wg.Done() on the error path
	}
	results <- hits
	wg.Done()
}

func scanShard(shard int, query string) (int, error) {
	if shard == searchShards-1 {
		return 0, fmt.Errorf("shard %d unavailable", shard)
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%d/%s", shard, query)))
	return int(h[0]), nil
}

func collectShardResults(wg *sync.WaitGroup, results chan int) {
	wg.Wait() // blocks forever: one shard never calls Done
	close(results)
}

func leakFanoutNoJoin(_ *leakManager, tenant string, _ func(error)) {
	var wg sync.WaitGroup
	results := make(chan int, searchShards)
	for i := 0; i < searchShards; i++ {
		wg.Add(1)
		go searchShard(i, "q-"+tenant, &wg, results)
	}
	go collectShardResults(&wg, results)
}

// ticker_loop: enrich starts a per-request cache refresher with a ticker and no way to stop it.
func refreshTenantCache(tenant string, every time.Duration) {
	t := time.NewTicker(every)
	for range t.C { // no ctx.Done() exit, ticker never stopped
		cacheRefresh(tenant)
	}
}

var cacheRefreshes atomic.Int64

func cacheRefresh(string) { cacheRefreshes.Add(1) }

func leakTickerLoop(m *leakManager, tenant string, _ func(error)) {
	go refreshTenantCache(tenant, m.tickerInterval)
}

// sleep_loop: search starts a status poller that sleeps between polls and never exits.
func pollIndexStatus(tenant string, every time.Duration) {
	for {
		time.Sleep(every) // no ctx.Done() exit
		cacheRefresh(tenant)
	}
}

func leakSleepLoop(m *leakManager, tenant string, _ func(error)) {
	go pollIndexStatus(tenant, m.sleepInterval)
}

// mutex: checkout reserves stock under the legacy inventory lock, which a crashed reconcile
// job left locked.
type legacyInventory struct {
	mu    sync.Mutex
	stock map[string]int
}

func (inv *legacyInventory) reconcileAfterCrash() {
	inv.mu.Lock()
	defer func() { _ = recover() }() // BUG: recovers but never unlocks
	panic("reconcile: inconsistent stock")
}

func (inv *legacyInventory) reserve(sku string, n int) {
	inv.mu.Lock() // blocks forever
	defer inv.mu.Unlock()
	inv.stock[sku] -= n
}

func leakMutex(m *leakManager, _ string, _ func(error)) {
	go m.inventory.reserve("sku-1", 1)
}

// select: enrich waits for either a result or an abort signal; neither channel ever fires.
type enrichment struct{ Fields map[string]string }

func awaitEnrichment(result <-chan enrichment, abort <-chan struct{}) {
	select { // blocks forever
	case <-result:
	case <-abort:
	}
}

func leakSelect(_ *leakManager, _ string, _ func(error)) {
	go awaitEnrichment(make(chan enrichment), make(chan struct{}))
}

// semaphore: search exports a report through a weighted semaphore whose slots are all held by
// stuck exports; Acquire with context.Background() never returns.
func exportReport(sem *semaphore.Weighted, tenant string) {
	if err := sem.Acquire(context.Background(), 1); err != nil { // blocks forever
		return
	}
	defer sem.Release(1)
	cacheRefresh(tenant)
}

func leakSemaphore(m *leakManager, tenant string, _ func(error)) {
	go exportReport(m.exports, tenant)
}

// sortedKeys is a small helper for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
