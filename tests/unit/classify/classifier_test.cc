#include "classify/classifier.h"

#include <doctest/doctest.h>

#include <utility>
#include <vector>

#include "../test_util.h"

namespace gx {
namespace {

Category ClassifyFrames(const Classifier& c, std::vector<RawFrame> frames,
                        std::string_view state = "",
                        ProfileFormat format = ProfileFormat::kProto,
                        std::string_view created_by = "", LabelSet labels = {}) {
  ClassifyInput in;
  in.frames = &frames;
  in.state = state;
  in.format = format;
  in.created_by = created_by;
  in.labels = &labels;
  return c.Classify(in).category;
}

// The whole classification (rule name included) of a debug=0 stack.
Classification ClassifyProto(const Classifier& c, std::vector<RawFrame> frames) {
  ClassifyInput in;
  in.frames = &frames;
  in.format = ProfileFormat::kProto;
  return c.Classify(in);
}

}  // namespace

TEST_CASE("built-in rules parse and every rule names a real category") {
  CHECK(BuiltinRules().size() > 20);
}

TEST_CASE("debug=0 frame signatures map to categories (FORMATS.md 5.2)") {
  Classifier c;
  struct Case {
    std::vector<RawFrame> frames;
    Category want;
  };
  const Case cases[] = {
      {test::Frames({"runtime.gopark", "runtime.chansend", "runtime.chansend1", "main.f"}),
       Category::kChanSend},
      {test::Frames({"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv2", "main.f"}),
       Category::kChanReceive},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "main.f"}), Category::kSelect},
      {test::Frames({"runtime.gopark", "runtime.block", "main.f"}), Category::kSelectNoCases},
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*pollDesc).wait", "net.(*conn).Read", "main.readLoop"}),
       Category::kNetworkIo},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "net/http.(*persistConn).roundTrip",
                     "net/http.(*Transport).roundTrip", "net/http.(*Client).Get", "main.f"}),
       Category::kHttpClient},
      {test::Frames({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1",
                     "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait", "main.f"}),
       Category::kWaitGroup},
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "golang.org/x/sync/semaphore.(*Weighted).Acquire", "main.f"}),
       Category::kSemaphore},
      {test::Frames({"runtime.gopark", "runtime.chansend", "runtime.chansend1",
                     "golang.org/x/sync/errgroup.(*Group).Go", "main.f"}),
       Category::kSemaphore},
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "golang.org/x/time/rate.(*Limiter).wait",
                     "golang.org/x/time/rate.(*Limiter).WaitN",
                     "golang.org/x/time/rate.(*Limiter).Wait", "main.f"}),
       Category::kSemaphore},
      // x/time before 0.3: the select in WaitN itself.
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "golang.org/x/time/rate.(*Limiter).WaitN", "main.f"}),
       Category::kSemaphore},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "database/sql.(*DB).conn",
                     "database/sql.(*DB).query", "database/sql.(*DB).QueryContext", "main.f"}),
       Category::kSemaphore},
      // A query dialing its connection is network I/O, not a wait for the pool.
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*pollDesc).wait", "net.(*conn).Read", "main.(*driver).Open",
                     "database/sql.(*DB).conn", "database/sql.(*DB).query", "main.f"}),
       Category::kNetworkIo},
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*pollDesc).wait", "net.(*conn).Read", "io.ReadAtLeast",
                     "net/http.(*http2serverConn).readFrames"}),
       Category::kIdleServer},
      {test::Frames({"net/http.(*connReader).startBackgroundRead.func2"}), Category::kIdleServer},
      // A handler reading a websocket through bufio.Peek: not an idle keep-alive connection.
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*pollDesc).wait", "net.(*conn).Read", "bufio.(*Reader).fill",
                     "bufio.(*Reader).Peek", "main.(*ws).next", "main.handler",
                     "net/http.HandlerFunc.ServeHTTP", "net/http.serverHandler.ServeHTTP",
                     "net/http.(*conn).serve"}),
       Category::kNetworkIo},
      // ... while the idle keep-alive connection itself stays benign.
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*pollDesc).wait", "net.(*conn).Read", "net/http.(*connReader).Read",
                     "bufio.(*Reader).fill", "bufio.(*Reader).Peek", "net/http.(*conn).serve"}),
       Category::kIdleServer},
      // Go 1.27 moved HTTP/2 into net/http/internal/http2.
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "net/http/internal/http2.(*serverConn).serve"}),
       Category::kIdleServer},
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "net/http/internal/http2.(*clientStream).writeRequest", "main.f"}),
       Category::kHttpClient},
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*pollDesc).wait", "net.(*conn).Read", "bufio.(*Reader).Read",
                     "google.golang.org/grpc/internal/transport.(*http2Server).HandleStreams"}),
       Category::kIdleServer},
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "google.golang.org/grpc/internal/transport.(*recvBufferReader).read",
                     "google.golang.org/grpc.(*clientStream).RecvMsg", "main.watch"}),
       Category::kHttpClient},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "database/sql.(*Rows).awaitDone"}),
       Category::kSemaphore},
      {test::Frames({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1",
                     "internal/poll.runtime_Semacquire", "internal/poll.(*fdMutex).rwlock",
                     "internal/poll.(*FD).writeLock", "internal/poll.(*FD).Write", "main.send"}),
       Category::kMutex},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "io.(*pipe).read",
                     "io.(*PipeReader).Read", "main.consume"}),
       Category::kChanReceive},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "io.(*pipe).write",
                     "io.(*PipeWriter).Write", "main.produce"}),
       Category::kChanSend},
      // A finalizer that blocks is a bug, not the runtime's business.
      {test::Frames({"runtime.gopark", "runtime.chansend", "runtime.chansend1", "main.finalize",
                     "runtime.call16", "runtime.runfinq"}),
       Category::kChanSend},
      // The accept loop caught starting a connection's goroutine: running, but benign.
      {test::Frames({"runtime.newproc", "net/http.(*Server).Serve",
                     "net/http.(*Server).ListenAndServe", "main.main"}),
       Category::kIdleServer},
      {test::Frames({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1",
                     "sync.runtime_SemacquireRWMutexR", "sync.(*RWMutex).RLock", "main.f"}),
       Category::kMutex},
      // Go >= 1.24 standard library code that locks internal/sync directly (sync.Map).
      {test::Frames({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1",
                     "internal/sync.runtime_SemacquireMutex", "internal/sync.(*Mutex).lockSlow",
                     "internal/sync.(*Mutex).Lock",
                     "internal/sync.(*HashTrieMap[...]).LoadOrStore", "sync.(*Map).LoadOrStore",
                     "main.f"}),
       Category::kMutex},
      {test::Frames({"runtime.gopark", "runtime.goparkunlock", "sync.runtime_notifyListWait",
                     "sync.(*Cond).Wait", "main.f"}),
       Category::kCond},
      {test::Frames({"runtime.gopark", "time.Sleep", "main.f"}), Category::kTimer},
      {test::Frames({"syscall.Syscall", "syscall.read", "syscall.Read", "main.f"}),
       Category::kSyscall},
      {test::Frames({"main.spin", "main.f"}), Category::kRunning},
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "net.(*conn).Read", "net/http.(*connReader).backgroundRead"}),
       Category::kIdleServer},
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*FD).Accept", "net.(*TCPListener).Accept",
                     "net/http.(*Server).Serve"}),
       Category::kIdleServer},
      {test::Frames({"runtime.gopark", "runtime.sigNoteSleep", "os/signal.signal_recv",
                     "os/signal.loop"}),
       Category::kRuntime},
      // os/exec: copying a child's output, and waiting for the child (pidfd, Go >= 1.23).
      {test::Frames({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
                     "internal/poll.(*FD).Read", "os.(*File).Read", "io.copyBuffer",
                     "os/exec.(*Cmd).writerDescriptor.func1", "os/exec.(*Cmd).Start.func2"}),
       Category::kSubprocess},
      {test::Frames({"syscall.Syscall6", "internal/syscall/unix.Waitid",
                     "os.(*Process).pidfdWait", "os.(*Process).wait", "os.(*Process).Wait",
                     "os/exec.(*Cmd).Wait", "main.runJob"}),
       Category::kSubprocess},
      // An iter.Pull sequence parked until next or stop (names as canonical: "[...]").
      {test::Frames({"runtime.coroswitch", "iter.Pull[...].func1.1", "main.numbers.func1",
                     "iter.Pull[...].func1", "runtime.corostart"}),
       Category::kCoroutine},
      // ... and its caller inside next, while the sequence runs.
      {test::Frames({"runtime.coroswitch", "iter.Pull2[...].func2", "main.handler"}),
       Category::kCoroutine},
      // A sequence blocked inside its own body is classified by what it waits for.
      {test::Frames({"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1",
                     "main.numbers.func1", "iter.Pull[...].func1", "runtime.corostart"}),
       Category::kChanReceive},
  };
  for (const Case& k : cases) {
    CAPTURE(k.frames.back().function);
    CAPTURE(k.frames[1 < k.frames.size() ? 1 : 0].function);
    CHECK(ClassifyFrames(c, k.frames) == k.want);
  }
}

TEST_CASE("nil-channel waits are told apart by the runtime line offset when known") {
  Classifier c;
  auto frames = test::Frames({"runtime.gopark", "runtime.chansend", "runtime.chansend1", "main.f"});
  frames[1].start_line = 160;
  frames[1].line = 176;  // nil check at the top of chansend
  CHECK(ClassifyFrames(c, frames) == Category::kNilChan);
  frames[1].line = 259;
  CHECK(ClassifyFrames(c, frames) == Category::kChanSend);
  frames[1].start_line = 0;  // Go 1.19: unknown, do not guess
  frames[1].line = 176;
  CHECK(ClassifyFrames(c, frames) == Category::kChanSend);
}

TEST_CASE("debug=2 wait reasons classify what the hidden frames cannot") {
  Classifier c;
  auto user = test::Frames({"main.f"});
  const std::pair<const char*, Category> cases[] = {
      {"chan send", Category::kChanSend},
      {"chan receive (nil chan)", Category::kNilChan},
      {"chan send (nil chan)", Category::kNilChan},
      {"select (no cases)", Category::kSelectNoCases},
      {"select", Category::kSelect},
      {"IO wait", Category::kNetworkIo},
      {"sync.WaitGroup.Wait", Category::kWaitGroup},
      {"sync.RWMutex.RLock", Category::kMutex},
      {"sync.Cond.Wait", Category::kCond},
      {"sleep", Category::kTimer},
      {"syscall", Category::kSyscall},
      {"runnable", Category::kRunning},
      {"GC worker (idle)", Category::kRuntime},
      {"finalizer wait", Category::kRuntime},
      {"semacquire", Category::kSemaphore},
      {"coroutine", Category::kCoroutine},
  };
  for (const auto& [state, want] : cases) {
    CAPTURE(state);
    CHECK(ClassifyFrames(c, user, state, ProfileFormat::kDebug2) == want);
  }
  // Go <= 1.23 WaitGroup waits say "semacquire"; the frame names the join.
  CHECK(ClassifyFrames(c, test::Frames({"sync.runtime_Semacquire", "sync.(*WaitGroup).Wait",
                                         "main.f"}),
                       "semacquire", ProfileFormat::kDebug2) == Category::kWaitGroup);
}

TEST_CASE("followers of a singleflight call or a sync.Once get advice about their leader") {
  Classifier c;
  auto classify = [&c](std::vector<RawFrame> frames) { return ClassifyProto(c, std::move(frames)); };
  const Classification follower = classify(test::Frames(
      {"runtime.gopark", "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait",
       "golang.org/x/sync/singleflight.(*Group).Do", "main.(*Cache).Get"}));
  CHECK(follower.category == Category::kWaitGroup);
  CHECK(follower.rule == "singleflight-wait");
  CHECK(StackHint(follower.category, follower.rule).find("leader") != std::string_view::npos);
  // The leader runs the call inside Do as well, blocked elsewhere: not a follower.
  const Classification leader = classify(test::Frames(
      {"runtime.gopark", "runtime.selectgo", "main.fetch",
       "golang.org/x/sync/singleflight.(*Group).doCall",
       "golang.org/x/sync/singleflight.(*Group).Do", "main.(*Cache).Get"}));
  CHECK(leader.category == Category::kSelect);
  // A leader whose own call waits on a WaitGroup: the join advice, not the follower's.
  const Classification joining_leader = classify(test::Frames(
      {"runtime.gopark", "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait",
       "main.fetchAll", "golang.org/x/sync/singleflight.(*Group).doCall",
       "golang.org/x/sync/singleflight.(*Group).Do", "main.(*Cache).Get"}));
  CHECK(joining_leader.rule == "waitgroup-wait");
  // A plain WaitGroup keeps the join advice.
  const Classification join = classify(test::Frames(
      {"runtime.gopark", "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait", "main.run"}));
  CHECK(join.rule == "waitgroup-wait");
  CHECK(StackHint(join.category, join.rule) == CategoryHint(Category::kWaitGroup));
  CHECK(StackHint(Category::kWaitGroup, "singleflight-wait (from the older capture)") ==
        StackHint(follower.category, follower.rule));

  const Classification once = classify(test::Frames(
      {"runtime.gopark", "runtime.goparkunlock", "sync.runtime_SemacquireMutex",
       "internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock", "sync.(*Mutex).Lock",
       "sync.(*Once).doSlow", "sync.(*Once).Do", "main.config"}));
  CHECK(once.category == Category::kMutex);
  CHECK(once.rule == "sync-once-wait");
  CHECK(StackHint(once.category, once.rule).find("first caller") != std::string_view::npos);
  // The first caller, its function waiting on a mutex of its own: a plain mutex wait.
  const Classification first = classify(test::Frames(
      {"runtime.gopark", "sync.runtime_SemacquireMutex", "sync.(*Mutex).Lock", "main.load",
       "sync.(*Once).doSlow", "sync.(*Once).Do", "main.config"}));
  CHECK(first.rule == "mutex-lock");
}

TEST_CASE("debug=1 says unknown rather than guessing a hidden primitive") {
  Classifier c;
  ClassifyInput in;
  auto frames = test::Frames({"main.leakChanSend.func1"});
  in.frames = &frames;
  in.format = ProfileFormat::kDebug1;
  Classification got = c.Classify(in);
  CHECK(got.category == Category::kUnknown);
  CHECK(got.rule == "primitive-hidden-in-debug1");
}

TEST_CASE("user rules and ignore-lists come first and match every field") {
  auto rules = ParseRulesDocument(R"(
ignore:
  - top_function: '^main\.backgroundFlusher$'
  - created_by: 'go\.opencensus\.io'
rules:
  - name: tenant-x-queue
    category: chan_send
    label: {tenant: '^x$'}
    any_function: 'main\.enqueue'
  - name: waits-as-timer
    category: timer
    state: '^select$'
    top_function: '^main\.poll$'
)",
                                  "test.yaml");
  REQUIRE_MESSAGE(rules.ok(), rules.status().message());
  Classifier c(std::move(rules.value()));
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "main.backgroundFlusher"})) ==
        Category::kIgnored);
  CHECK(ClassifyFrames(c, test::Frames({"main.f"}), "", ProfileFormat::kDebug2,
                       "go.opencensus.io/stats/view.init.0") == Category::kIgnored);
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "runtime.selectgo", "main.enqueue"}),
                       "", ProfileFormat::kProto, "", {{"tenant", "x"}}) == Category::kChanSend);
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "runtime.selectgo", "main.enqueue"}),
                       "", ProfileFormat::kProto, "", {{"tenant", "y"}}) == Category::kSelect);
  CHECK(ClassifyFrames(c, test::Frames({"main.poll"}), "select", ProfileFormat::kDebug2) ==
        Category::kTimer);
}

TEST_CASE("bad rule files are rejected with the line") {
  struct Case {
    const char* yaml;
    const char* error_part;
  };
  const Case cases[] = {
      {"rules:\n  - category: chan_send\n    any_function: '('\n", "test.yaml:3"},
      {"rules:\n  - category: nope\n    state: x\n", "unknown category 'nope'"},
      {"rules:\n  - category: timer\n    statee: x\n", "unknown key 'statee'"},
      {"rules:\n  - category: timer\n", "has no condition"},
      {"ignore:\n  - category: timer\n    state: x\n", "unknown key 'category'"},
      {"rulez: []\n", "unknown key 'rulez'"},
      {"rules: [\n", "test.yaml"},
      {"rules:\n  - state: x\n", "no category"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.yaml);
    auto rules = ParseRulesDocument(k.yaml, "test.yaml");
    REQUIRE_FALSE(rules.ok());
    CHECK_MESSAGE(rules.status().message().find(k.error_part) != std::string::npos,
                  rules.status().message());
  }
}

TEST_CASE("library-owned and server connection goroutines seen in real services") {
  Classifier c;
  auto classify = [&c](std::vector<RawFrame> frames) { return ClassifyProto(c, std::move(frames)); };
  // grpc >= 1.62: the server connection's writer runs in NewServerTransport.func2, one per
  // client connection, like its HandleStreams and keepalive siblings.
  const Classification writer = classify(test::Frames(
      {"runtime.gopark", "runtime.selectgo",
       "google.golang.org/grpc/internal/transport.(*controlBuffer).get",
       "google.golang.org/grpc/internal/transport.(*loopyWriter).run",
       "google.golang.org/grpc/internal/transport.NewServerTransport.func2"}));
  CHECK(writer.category == Category::kIdleServer);
  // An HTTPS connection waiting for the client's hello: as idle as a plain-HTTP one waiting
  // for its request line.
  const Classification handshake = classify(test::Frames(
      {"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
       "internal/poll.(*pollDesc).wait", "internal/poll.(*FD).Read", "net.(*netFD).Read",
       "net.(*conn).Read", "crypto/tls.(*atLeastReader).Read", "bytes.(*Buffer).ReadFrom",
       "crypto/tls.(*Conn).readFromUntil", "crypto/tls.(*Conn).readRecordOrCCS",
       "crypto/tls.(*Conn).readRecord", "crypto/tls.(*Conn).readHandshake",
       "crypto/tls.(*Conn).readClientHello", "crypto/tls.(*Conn).serverHandshake",
       "crypto/tls.(*Conn).handshakeContext", "crypto/tls.(*Conn).HandshakeContext",
       "net/http.(*conn).serve"}));
  CHECK(handshake.category == Category::kIdleServer);
  CHECK(handshake.rule == "https-server-handshake");
  // A handler reading a TLS connection it dialed itself is still network I/O.
  const Classification client_read = classify(test::Frames(
      {"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
       "net.(*conn).Read", "crypto/tls.(*Conn).readRecord", "crypto/tls.(*Conn).Read",
       "main.handler", "net/http.HandlerFunc.ServeHTTP", "net/http.serverHandler.ServeHTTP",
       "net/http.(*conn).serve"}));
  CHECK(client_read.category == Category::kNetworkIo);

  // Goroutines a library object owns: select, with advice about the object, not a context.
  struct Owned {
    std::vector<RawFrame> frames;
    std::string rule;
    std::string hint_part;
  };
  const Owned owned[] = {
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "database/sql.(*DB).connectionOpener"}),
       "sql-db-background", "DBs opened and never closed"},
      {test::Frames({"runtime.gopark", "runtime.selectgo",
                     "google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"}),
       "grpc-clientconn-background", "ClientConns made and never closed"},
      {test::Frames({"runtime.gopark", "runtime.selectgo", "os/signal.NotifyContext.func1"}),
       "signal-notify-context", "defer stop()"},
  };
  // An outbound gRPC call gets gRPC advice, though its category is net/http's.
  const Classification call = classify(test::Frames(
      {"runtime.gopark", "runtime.selectgo",
       "google.golang.org/grpc/internal/transport.(*recvBufferReader).read",
       "google.golang.org/grpc.(*clientStream).RecvMsg", "main.watch"}));
  CHECK(call.category == Category::kHttpClient);
  CHECK(StackHint(call.category, call.rule).find("Outbound gRPC") == 0);
  for (const Owned& o : owned) {
    CAPTURE(o.rule);
    const Classification got = classify(o.frames);
    CHECK(got.category == Category::kSelect);
    CHECK(got.rule == o.rule);
    CHECK(StackHint(got.category, got.rule).find(o.hint_part) != std::string_view::npos);
  }
}

TEST_CASE("an application goroutine assisting the GC is busy, the GC's own goroutines benign") {
  Classifier c;
  const auto handler = test::Frames({"main.render", "main.handler",
                                     "net/http.HandlerFunc.ServeHTTP",
                                     "net/http.serverHandler.ServeHTTP", "net/http.(*conn).serve"});
  CHECK(ClassifyFrames(c, handler, "GC assist wait", ProfileFormat::kDebug2) ==
        Category::kRunning);
  CHECK(ClassifyFrames(c, handler, "GC assist marking", ProfileFormat::kDebug2) ==
        Category::kRunning);
  CHECK(ClassifyFrames(c, test::Frames({"unique.Make[...]", "main.intern"}),
                       "GC weak to strong wait", ProfileFormat::kDebug2) == Category::kRunning);
  // debug=0 shows the runtime frames instead of the state.
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "runtime.gcParkAssist",
                                        "runtime.gcAssistAlloc", "runtime.mallocgc",
                                        "main.render", "main.handler"})) == Category::kRunning);
  // The runtime's own GC goroutines stay benign.
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "runtime.bgsweep"}), "GC sweep wait",
                       ProfileFormat::kDebug2) == Category::kRuntime);
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "runtime.gcBgMarkWorker"}),
                       "GC worker (idle)", ProfileFormat::kDebug2) == Category::kRuntime);
  CHECK(ClassifyFrames(c, test::Frames({"runtime.gopark", "runtime.bgscavenge"}),
                       "GC scavenge wait", ProfileFormat::kDebug2) == Category::kRuntime);
}

TEST_CASE("every category has a name, a hint, and parses back") {
  for (int i = 0; i < kCategoryCount; ++i) {
    Category cat = static_cast<Category>(i);
    CHECK_FALSE(CategoryName(cat).empty());
    CHECK(CategoryHint(cat).size() > 20);
    // Hints are the `hint` label of goroutine_category_info, cut at 256 bytes
    // (SanitizeLabelValue): a longer one would reach alerts and dashboards cut mid-word.
    CHECK(CategoryHint(cat).size() <= 256);
    CHECK(ParseCategory(CategoryName(cat)) == cat);
  }
  CHECK_FALSE(ParseCategory("bogus").has_value());
}

}  // namespace gx
