#include "normalize/stack_identity.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>

#include "decode/text_util.h"

namespace gx {

bool IsHiddenRuntimeFrame(std::string_view f) {
  if (StartsWith(f, "internal/runtime/")) return true;
  if (!StartsWith(f, "runtime.")) return false;
  if (f.size() <= 8) return true;
  // runtime.Gosched, runtime.GC, runtime.Goexit… are shown; "runtime.(*T).m" is not.
  return !std::isupper(static_cast<unsigned char>(f[8]));
}

bool IsPrimitiveImplFrame(std::string_view f) {
  if (StartsWith(f, "runtime.") || StartsWith(f, "internal/")) return true;
  if (StartsWith(f, "sync.runtime_")) return true;
  if (StartsWith(f, "sync.") && EndsWith(f, "Slow")) return true;  // (*Mutex).lockSlow
  return false;
}

bool IsWrapperFrame(std::string_view f) {
  if (EndsWith(f, "-fm")) return true;
  std::size_t dot = f.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view last = f.substr(dot + 1);
  if (!StartsWith(last, "gowrap") || last.size() == 6) return false;
  for (char c : last.substr(6)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Clients and frameworks whose goroutines sit in almost every service: their frames (a gRPC
// stream's wait for headers, a Redis pool's wait for a connection) are where the blocking
// happens, not the code that must change, so the service's own frame below them is named.
// A module path, matched whole or followed by '/' or '.'.
constexpr std::string_view kWellKnownLibraries[] = {
    "cloud.google.com/go",
    "github.com/IBM/sarama",
    "github.com/Shopify/sarama",
    "github.com/aws/aws-sdk-go",
    "github.com/aws/aws-sdk-go-v2",
    "github.com/go-redis/redis",
    "github.com/go-sql-driver/mysql",
    "github.com/gorilla/websocket",
    "github.com/jackc/pgx",
    "github.com/lib/pq",
    "github.com/nats-io/nats.go",
    "github.com/prometheus/client_golang",
    "github.com/redis/go-redis",
    "github.com/segmentio/kafka-go",
    "github.com/valyala/fasthttp",
    "go.etcd.io/etcd/client",
    "go.mongodb.org/mongo-driver",
    "go.opentelemetry.io",
    "google.golang.org/grpc",
    "k8s.io/apimachinery",
    "k8s.io/client-go",
};

// The first path elements of the standard library's packages, Go 1.19 to 1.27 ("vendor" holds
// the golang.org/x code the standard library vendors; "simd" is GOEXPERIMENT=simd). Sorted.
constexpr std::string_view kStandardLibraryRoots[] = {
    "archive", "bufio",   "builtin", "bytes",   "cmp",     "compress", "container", "context",
    "crypto",  "database", "debug",  "embed",   "encoding", "errors",  "expvar",    "flag",
    "fmt",     "go",      "hash",    "html",    "image",   "index",    "internal",  "io",
    "iter",    "log",     "maps",    "math",    "mime",    "net",      "os",        "path",
    "plugin",  "reflect", "regexp",  "runtime", "simd",    "slices",   "sort",      "strconv",
    "strings", "structs", "sync",    "syscall", "testing", "text",     "time",      "unicode",
    "unique",  "unsafe",  "vendor",  "weak",
};

bool IsLibraryFunction(std::string_view f) {
  if (StartsWith(f, "golang.org/x/")) return true;
  if (StartsWith(f, "main.")) return false;
  // The first element of the package path: before the first '/', or for a one-element path
  // before the first '.' (receivers such as "(*T)" and generic arguments come later).
  std::string_view head = f.substr(0, f.find_first_of("(["));
  std::size_t slash = head.find('/');
  std::string_view first = head.substr(0, slash != std::string_view::npos ? slash : head.find('.'));
  // Every well-known module path has a dot in its first element (a host name): the standard
  // library's functions, most frames of a stack, skip the list.
  if (slash != std::string_view::npos && first.find('.') != std::string_view::npos) {
    for (std::string_view module : kWellKnownLibraries) {
      if (StartsWith(f, module) && f.size() > module.size() &&
          (f[module.size()] == '/' || f[module.size()] == '.')) {
        return true;
      }
    }
  }
  // Compiler-generated functions: "type:.eq.main.T", "go:buildid", "go.shape...".
  if (StartsWith(first, "type:") || StartsWith(first, "go:")) return true;
  // Only the standard library's own first elements: a module path without a dot ("shop",
  // as `go mod init shop` makes) is the application, like one with a dot.
  return std::binary_search(std::begin(kStandardLibraryRoots), std::end(kStandardLibraryRoots),
                            first);
}

bool CanonicalFunctionName(std::string_view f, std::string* out) {
  std::size_t open = f.find('[');
  if (open == std::string_view::npos) return false;
  out->clear();
  std::size_t copied = 0;  // f[0, copied) is in *out
  bool changed = false;
  while (open != std::string_view::npos) {
    // Find the ']' that closes f[open].
    int depth = 0;
    bool quoted = false;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = open; i < f.size(); ++i) {
      const char c = f[i];
      if (quoted) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '[') {
        ++depth;
      } else if (c == ']' && --depth == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) break;  // unbalanced: keep the rest as it is
    const std::string_view inside = f.substr(open + 1, close - open - 1);
    if (inside != "...") {
      out->append(f.substr(copied, open + 1 - copied));
      out->append("...");
      copied = close;
      changed = true;
    }
    open = f.find('[', close + 1);
  }
  if (!changed) return false;
  out->append(f.substr(copied));
  return true;
}

uint64_t IdToHash(const std::string& id) {
  // Only what HashToId writes: 16 lower-case hex digits.
  if (id.size() != 16) return 0;
  uint64_t hash = 0;
  for (char c : id) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return 0;
    }
    hash = hash << 4 | digit;
  }
  return hash;
}

std::string HashToId(uint64_t hash) {
  static const char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i) {
    id[i] = kHex[hash & 0xF];
    hash >>= 4;
  }
  return id;
}

FunctionTraits TraitsOf(std::string_view f) {
  FunctionTraits t;
  t.hidden_runtime = IsHiddenRuntimeFrame(f);
  t.primitive_impl = IsPrimitiveImplFrame(f);
  t.wrapper = IsWrapperFrame(f);
  t.library = IsLibraryFunction(f);
  t.unknown = f == "?";
  t.goexit = f == "runtime.goexit";
  t.sync_package = StartsWith(f, "sync.");
  return t;
}

void IdentityHashes(const std::string_view* inputs, std::size_t count, uint64_t* out) {
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  constexpr int kLanes = 4;
  struct Lane {
    const unsigned char* p = nullptr;
    const unsigned char* end = nullptr;
    uint64_t h = kIdentityHashSeed;
    std::size_t index = 0;
  };
  Lane lanes[kLanes];
  std::size_t next = 0;
  auto load = [&](Lane& lane) {
    const std::string_view in = inputs[next];
    lane.p = reinterpret_cast<const unsigned char*>(in.data());
    lane.end = lane.p + in.size();
    lane.h = kIdentityHashSeed;
    lane.index = next++;
  };
  if (count >= kLanes) {
    for (Lane& lane : lanes) load(lane);
    while (true) {
      std::size_t run = SIZE_MAX;
      for (const Lane& lane : lanes) run = std::min<std::size_t>(run, lane.end - lane.p);
      uint64_t h0 = lanes[0].h, h1 = lanes[1].h, h2 = lanes[2].h, h3 = lanes[3].h;
      const unsigned char *p0 = lanes[0].p, *p1 = lanes[1].p, *p2 = lanes[2].p, *p3 = lanes[3].p;
      for (std::size_t k = 0; k < run; ++k) {
        h0 = (h0 ^ p0[k]) * kPrime;
        h1 = (h1 ^ p1[k]) * kPrime;
        h2 = (h2 ^ p2[k]) * kPrime;
        h3 = (h3 ^ p3[k]) * kPrime;
      }
      lanes[0].h = h0, lanes[1].h = h1, lanes[2].h = h2, lanes[3].h = h3;
      bool refilled = true;
      for (Lane& lane : lanes) {
        lane.p += run;
        if (lane.p != lane.end) continue;
        out[lane.index] = lane.h;
        if (next < count) {
          load(lane);
        } else {
          refilled = false;
          lane.index = SIZE_MAX;  // finished
        }
      }
      if (!refilled) break;
    }
    // Fewer inputs than lanes are left: finish the unfinished lanes one at a time.
    for (Lane& lane : lanes) {
      if (lane.index == SIZE_MAX) continue;
      uint64_t h = lane.h;
      for (const unsigned char* p = lane.p; p != lane.end; ++p) h = (h ^ *p) * kPrime;
      out[lane.index] = h;
    }
  }
  for (; next < count; ++next) {
    uint64_t h = kIdentityHashSeed;
    for (unsigned char c : inputs[next]) h = (h ^ c) * kPrime;
    out[next] = h;
  }
}

StackIdentity ComputeStackIdentity(const std::vector<RawFrame>& frames, const Limits& limits) {
  std::vector<FunctionTraits> traits;
  traits.reserve(frames.size());
  for (const RawFrame& f : frames) traits.push_back(TraitsOf(f.function));
  std::vector<uint32_t> kept;
  IdentityFramesOf(frames.size(), [&](std::size_t i) -> const FunctionTraits& { return traits[i]; },
                   limits.identity_frames, &kept);
  StackIdentity identity;
  uint64_t h = kIdentityHashSeed;
  for (uint32_t i : kept) {
    identity.functions.push_back(frames[i].function);
    h = IdentityHashAppend(h, frames[i].function);
  }
  identity.hash = h;
  identity.id = HashToId(h);
  return identity;
}

int FirstVisibleFrame(const std::vector<RawFrame>& frames) {
  return FirstVisibleFrameOf(frames.size(), [&](std::size_t i) {
    return TraitsOf(frames[i].function);
  });
}

std::size_t BlockingFrames(const std::vector<RawFrame>& frames) {
  return BlockingFramesOf(frames.size(), [&](std::size_t i) {
    return TraitsOf(frames[i].function);
  });
}

int FirstApplicationFrame(const std::vector<RawFrame>& frames) {
  return FirstApplicationFrameOf(frames.size(), [&](std::size_t i) {
    return TraitsOf(frames[i].function);
  });
}

}  // namespace gx
