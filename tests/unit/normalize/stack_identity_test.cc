#include "normalize/stack_identity.h"

#include <doctest/doctest.h>

#include "../test_util.h"

namespace gx {

TEST_CASE("frame predicates") {
  CHECK(IsHiddenRuntimeFrame("runtime.gopark"));
  CHECK(IsHiddenRuntimeFrame("runtime.goexit"));
  CHECK(IsHiddenRuntimeFrame("internal/runtime/syscall.Syscall6"));
  CHECK_FALSE(IsHiddenRuntimeFrame("runtime.Gosched"));
  CHECK_FALSE(IsHiddenRuntimeFrame("runtime/pprof.writeGoroutine"));
  CHECK(IsWrapperFrame("net/http.(*connReader).startBackgroundRead.gowrap2"));
  CHECK(IsWrapperFrame("main.(*T).Run-fm"));
  CHECK_FALSE(IsWrapperFrame("main.gowrapper"));
  CHECK(IsLibraryFunction("net/http.(*persistConn).roundTrip"));
  CHECK(IsLibraryFunction("sync.(*Mutex).Lock"));
  CHECK(IsLibraryFunction("golang.org/x/sync/errgroup.(*Group).Wait"));
  CHECK_FALSE(IsLibraryFunction("main.leak.func1"));
  CHECK_FALSE(IsLibraryFunction("github.com/acme/svc/api.(*Handler).Serve"));
  CHECK_FALSE(IsLibraryFunction("example.com/x.F[...]"));
  CHECK(IsLibraryFunction("google.golang.org/grpc/internal/transport.(*Stream).waitOnHeader"));
  CHECK(IsLibraryFunction("google.golang.org/grpc.(*ClientConn).Invoke"));
  CHECK(IsLibraryFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).waitTurn"));
  CHECK(IsLibraryFunction("github.com/jackc/pgx/v5/pgconn.(*PgConn).receiveMessage"));
  CHECK_FALSE(IsLibraryFunction("google.golang.org/grpcx/svc.F"));  // a whole module path only
  CHECK_FALSE(IsLibraryFunction("github.com/prometheus/prometheus/scrape.(*scrapeLoop).run"));
  // Modules without a dot in their path (`go mod init shop`) are the application too.
  CHECK_FALSE(IsLibraryFunction("shop/internal/orders.(*Service).waitResult"));
  CHECK_FALSE(IsLibraryFunction("shop.Run"));
  CHECK_FALSE(IsLibraryFunction("netutil/pool.(*P).Get"));  // not "net"
  CHECK(IsLibraryFunction("internal/poll.(*FD).Read"));
  CHECK(IsLibraryFunction("vendor/golang.org/x/net/http2/hpack.(*Decoder).Write"));
  CHECK(IsLibraryFunction("log/slog.(*Logger).Info"));
  CHECK(IsLibraryFunction("time.Sleep"));
  CHECK(IsLibraryFunction("type:.eq.main.T"));
  CHECK(IsLibraryFunction("iter.Pull[...].func1.1"));
}

TEST_CASE("generic instantiations read as the text formats print them") {
  std::string out;
  auto canonical = [&out](std::string_view f) {
    return CanonicalFunctionName(f, &out) ? out : std::string(f);
  };
  CHECK(canonical("iter.Pull[go.shape.int].func1.1") == "iter.Pull[...].func1.1");
  CHECK(canonical("main.(*Pool[go.shape.string]).worker") == "main.(*Pool[...]).worker");
  CHECK(canonical("example.com/x.Map[go.shape.int,go.shape.string]") == "example.com/x.Map[...]");
  // Shapes nest brackets, and struct tags may hold any of them.
  CHECK(canonical("x.F[go.shape.map[string][]int].func2") == "x.F[...].func2");
  CHECK(canonical("x.F[go.shape.struct { A int \"json:\\\"]\\\"\" }].g") == "x.F[...].g");
  CHECK(canonical("x.(*T[go.shape.int]).M[go.shape.uint8]") == "x.(*T[...]).M[...]");
  // Already canonical, not generic, or unbalanced: unchanged, and reported so.
  CHECK_FALSE(CanonicalFunctionName("iter.Pull[...].func1", &out));
  CHECK_FALSE(CanonicalFunctionName("main.leak.func1", &out));
  CHECK_FALSE(CanonicalFunctionName("x.F[go.shape.int", &out));
  CHECK(canonical("x.F[go.shape.int].g[oops") == "x.F[...].g[oops");
}

TEST_CASE("identity ignores primitive internals that changed between Go versions") {
  // Go 1.19 and Go 1.24 frames of the same Mutex.Lock wait (FORMATS.md §5.2).
  auto go119 = test::Frames({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1",
                             "sync.runtime_SemacquireMutex", "sync.(*Mutex).lockSlow",
                             "sync.(*Mutex).Lock", "main.worker", "runtime.goexit"});
  auto go124 = test::Frames({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1",
                             "internal/sync.runtime_SemacquireMutex",
                             "internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock",
                             "sync.(*Mutex).Lock", "main.worker"});
  // debug=2 view of the same goroutine: runtime frames hidden.
  auto debug2 = test::Frames({"internal/sync.runtime_SemacquireMutex",
                              "internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock",
                              "sync.(*Mutex).Lock", "main.worker"});
  Limits limits;
  auto a = ComputeStackIdentity(go119, limits);
  auto b = ComputeStackIdentity(go124, limits);
  auto c = ComputeStackIdentity(debug2, limits);
  CHECK(a.id == b.id);
  CHECK(b.id == c.id);
  CHECK(a.functions == std::vector<std::string>{"sync.(*Mutex).Lock", "main.worker"});
  CHECK(a.id.size() == 16);
}

TEST_CASE("writers queued on an RWMutex's inner Mutex and for its readers share an identity") {
  Limits limits;
  auto inner = test::Frames({"runtime.gopark", "sync.runtime_SemacquireMutex",
                             "internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock",
                             "sync.(*Mutex).Lock", "sync.(*RWMutex).Lock", "main.writer"});
  auto readers = test::Frames({"runtime.gopark", "sync.runtime_SemacquireRWMutex",
                               "sync.(*RWMutex).Lock", "main.writer"});
  auto a = ComputeStackIdentity(inner, limits);
  CHECK(a.id == ComputeStackIdentity(readers, limits).id);
  CHECK(a.functions == std::vector<std::string>{"sync.(*RWMutex).Lock", "main.writer"});
  // A sync.Once's waiters are named by Once.Do, not by the mutex inside it.
  auto once = test::Frames({"runtime.gopark", "sync.runtime_SemacquireMutex", "sync.(*Mutex).Lock",
                            "sync.(*Once).doSlow", "sync.(*Once).Do", "main.config"});
  CHECK(ComputeStackIdentity(once, limits).functions ==
        std::vector<std::string>{"sync.(*Once).Do", "main.config"});
  // A plain Mutex wait keeps its frame: the caller is not in package sync.
  auto plain = test::Frames({"runtime.gopark", "sync.(*Mutex).Lock", "main.worker"});
  CHECK(ComputeStackIdentity(plain, limits).functions ==
        std::vector<std::string>{"sync.(*Mutex).Lock", "main.worker"});
}

TEST_CASE("identity drops wrappers and mid-stack runtime frames, keeps closures distinct") {
  Limits limits;
  auto with_main = test::Frames({"runtime.gopark", "main.main", "runtime.main"});
  auto debug2_main = test::Frames({"main.main"});
  CHECK(ComputeStackIdentity(with_main, limits).id == ComputeStackIdentity(debug2_main, limits).id);
  auto f1 = test::Frames({"main.leak.func1"});
  auto f2 = test::Frames({"main.leak.func2"});
  CHECK(ComputeStackIdentity(f1, limits).id != ComputeStackIdentity(f2, limits).id);
  auto wrapped = test::Frames({"main.leak.func1", "main.leak.gowrap1"});
  CHECK(ComputeStackIdentity(wrapped, limits).id == ComputeStackIdentity(f1, limits).id);
}

TEST_CASE("deep stacks get the same identity whatever the format cut off") {
  Limits limits;
  std::vector<RawFrame> debug0_cut, debug2_elided;
  RawFrame leaf;
  leaf.function = "runtime.gopark";
  debug0_cut.push_back(leaf);
  leaf.function = "runtime.chanrecv";
  debug0_cut.push_back(leaf);
  for (int i = 0; i < 30; ++i) {
    RawFrame f;
    f.function = "main.deepRecurse";
    debug0_cut.push_back(f);
  }
  for (int i = 0; i < 100; ++i) {
    RawFrame f;
    f.function = "main.deepRecurse";
    debug2_elided.push_back(f);
  }
  CHECK(ComputeStackIdentity(debug0_cut, limits).id ==
        ComputeStackIdentity(debug2_elided, limits).id);
}

TEST_CASE("first application frame skips runtime, stdlib and x/ frames") {
  auto frames = test::Frames({"runtime.gopark", "runtime.selectgo",
                              "golang.org/x/sync/semaphore.(*Weighted).Acquire",
                              "main.leakSemaphore.func1"});
  CHECK(FirstApplicationFrame(frames) == 3);
  auto stdlib_only = test::Frames({"runtime.gopark", "internal/poll.runtime_pollWait",
                                   "net.(*conn).Read", "net/http.(*persistConn).readLoop",
                                   "net/http.(*Transport).dialConn.gowrap2"});
  CHECK(stdlib_only[FirstApplicationFrame(stdlib_only)].function ==
        "net/http.(*persistConn).readLoop");
  auto grpc = test::Frames({"runtime.gopark", "runtime.selectgo",
                            "google.golang.org/grpc/internal/transport.(*Stream).waitOnHeader",
                            "google.golang.org/grpc.(*clientStream).Header",
                            "example.com/app/api.(*Server).enrich.func1"});
  CHECK(FirstApplicationFrame(grpc) == 4);
  CHECK(FirstApplicationFrame({}) == -1);
}

TEST_CASE("stack ids read back as the hash they were written from, and only those") {
  for (uint64_t h : {uint64_t{0}, uint64_t{1}, uint64_t{0xabc}, uint64_t{0x0123456789abcdef},
                     UINT64_MAX}) {
    CHECK(HashToId(h).size() == 16);
    CHECK(IdToHash(HashToId(h)) == h);
  }
  CHECK(IdToHash("") == 0);
  CHECK(IdToHash("abc") == 0);                // too short: not an id, not 0xabc
  CHECK(IdToHash("0123456789ABCDEF") == 0);   // HashToId writes lower case only
  CHECK(IdToHash("0123456789abcdeg") == 0);
  CHECK(IdToHash("0123456789abcdef0") == 0);  // too long
  CHECK(IdToHash(" 123456789abcdef") == 0);
}

}  // namespace gx
