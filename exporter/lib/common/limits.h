// Every size and count cap of the exporter, in one place with its reason. Input from outside
// (HTTP bodies, files, config, requests) never grows memory or time past these. Limits holds
// the pipeline's (tests shrink them); the constants below hold the rest. Plain values; copy
// freely (thread-compatible).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace gx {

struct Limits {
  // debug=0 bodies are a few KB even at 1M goroutines (FORMATS.md §4: 3.8 KB); 16 MiB leaves
  // room for huge label sets while stopping a runaway or hostile server early.
  std::size_t max_compressed_bytes = 16u << 20;
  // The proto is buffered whole (its string table comes last, FORMATS.md §1); it decompresses
  // to about 2x the body. 64 MiB bounds a gzip bomb.
  std::size_t max_proto_bytes = 64u << 20;
  // Text dumps stream through the parser, but the runtime never writes more than 64 MiB
  // (FORMATS.md §3.4); anything far beyond that is not a Go goroutine dump.
  std::size_t max_text_bytes = 96u << 20;
  // Messages and groups nested inside the protobuf's top-level message: libprotobuf's default
  // recursion limit, which the hand-written decoder keeps so that it accepts and rejects
  // exactly the bodies libprotobuf did (and hostile nesting stays cheap).
  int max_proto_nesting = 100;
  // Samples, locations, functions and strings of one debug=0 profile. Each costs up to about
  // 100 bytes of tables for as little as 2 bytes of wire, so a 64 MiB proto could need GBs;
  // real profiles are far below this (a service: a few hundred; the 10,000-stack benchmark
  // profile: about 90,000).
  std::size_t max_profile_entries = 1u << 19;
  // A frame's file-path line or a header with labels; longer lines are counted and skipped.
  std::size_t max_line_bytes = 64u << 10;
  // Go prints at most 100 frames (debug=2) or 128 PCs (debug=0/1); inlining can expand them.
  std::size_t max_frames_per_stack = 512;
  // Frames the debug=0 decoder expands from all samples of one profile. A sample is a few
  // bytes naming locations whose inlined lines expand to up to max_frames_per_stack frames,
  // so a 5 KB body could ask for hundreds of millions (seconds of CPU). 16M is about 90 ms,
  // and far above real profiles (the 10,000-stack benchmark profile: about 100,000); even one
  // at the entry cap, every sample 30 frames deep, stays under it. Past it, the remaining
  // samples are counted but not decoded, and the capture is marked truncated.
  std::size_t max_profile_frames = 1u << 24;
  // Distinct (stack, state, creator, labels) buckets kept while aggregating one profile.
  // Beyond this, goroutines are still counted in totals and categories but folded into an
  // overflow bucket, and the snapshot says so.
  std::size_t max_buckets = 20000;
  // Frames of all those buckets together (about 28 bytes each while aggregating): 20,000
  // buckets of 512 frames would hold about 290 MB; real profiles need a few hundred thousand
  // frames (the 10,000-stack benchmark profile: about 100,000). Past it, as past max_buckets.
  std::size_t max_bucket_frames = 1u << 21;
  // Labels per goroutine and length of a label key or value kept (longer values are cut and
  // marked with a trailing "…"), so labels cannot blow up series cardinality or memory.
  std::size_t max_labels_per_goroutine = 32;
  std::size_t max_label_bytes = 128;
  // Label keys and values held by one capture's buckets (its snapshot keeps a part of them,
  // max_snapshot_label_bytes below):
  // real profiles need a few KB, but 20,000 buckets of 32 labels of 128-byte keys and values,
  // from a 2 MB body, took 450 MB (measured). Past it, goroutines whose label set is not held
  // yet are counted under their stack without labels, and the snapshot says so.
  std::size_t max_label_text_bytes = 16u << 20;
  // Label text a snapshot keeps for reports and history, most goroutines first (a snapshot is
  // kept per target, so this bounds what labels hold between probes): a service with a few
  // label values needs a few KB; one that labels every request can have thousands of sets.
  // Past it, a stack's further label sets keep only the module's label_keys (so the series
  // they split stay exact), merged where they come out alike, and the snapshot says so.
  std::size_t max_snapshot_label_bytes = 2u << 20;
  // Function names and file paths are cut beyond this length.
  std::size_t max_symbol_bytes = 1024;
  // Function names and files of every frame of every stack of one snapshot, together (a
  // snapshot is kept per target). Real profiles need well under a MiB (the 10,000-stack
  // benchmark profile: 12 MB); 512 frames of 1 KiB names and paths in each of 20,000 stacks
  // would need 20 GB. Stacks past it keep only their first application frame (most goroutines
  // first), its name and file cut to 96 bytes once those too have used this up.
  std::size_t max_shape_text_bytes = 16u << 20;
  // Distinct creators remembered per stack (the most frequent one is reported).
  std::size_t max_creators_per_stack = 8;
  // Frames of a stack that make up its identity (innermost first). Go <=1.22 keeps only 32
  // PCs in debug=0/1 and debug=2 elides beyond 50+50 frames, so deep stacks are cut
  // differently per format; the innermost 24 application frames survive in every format.
  std::size_t identity_frames = 24;
  // Stack shapes (frames, identity; aggregate/stack_shape_cache.h) remembered across
  // captures. Entries are weak: live shapes are bounded by the snapshots that hold them, this
  // bounds the index itself (a flood of never-repeating stacks just stops being cached).
  std::size_t max_cached_shapes = 200000;
};

// A record's goroutine count and a goroutine's wait in minutes, as a profile states them: far
// above anything real (2^32 goroutines would need terabytes of stacks; 2^24 minutes is 32
// years), and low enough that sums over every record of the largest body accepted cannot
// overflow int64 (2^32 goroutines x 2^26 records; 2^24 minutes x 2^32 goroutines). Larger
// values are clamped and the capture carries a warning.
inline constexpr int64_t kMaxRecordCount = int64_t{1} << 32;
inline constexpr int64_t kMaxWaitMinutes = int64_t{1} << 24;

// Memory every capture may hold without asking the exporter-wide budget
// (common/memory_budget.h, --probe.memory-budget): the captures of real services stay far below
// it (a service's debug=0 profile: well under 1 MiB of tables and text; debug=2 dumps stream),
// so they are never refused; only large or hostile ones compete for the budget. Times the
// probe and watch workers (--web.max-requests and watch.concurrency, 16 and 4 by default),
// it is what captures hold outside the budget.
inline constexpr std::size_t kFreeCaptureBytes = 4u << 20;
// The budget's default: about half of the Helm chart's default memory limit of 512 MiB.
inline constexpr std::size_t kDefaultMemoryBudgetBytes = 256u << 20;

// The raw debug=0 body kept per target for /api/v1/capture (`go tool pprof` on what the
// exporter saw): real ones are a few KB (FORMATS.md §4: 3.8 KB at 1M goroutines), the
// 10,000-stack benchmark profile 0.9 MB. Larger ones are not kept: with up to
// kMaxTrackedTargets targets, 16 MiB each would be 160 GB.
inline constexpr std::size_t kMaxKeptRawBytes = 1u << 20;

// Idle keep-alive connections to targets (fetch/connection_pool.h): one per target of a large
// watch list, at a few KB each; beyond this the longest idle is closed. Five minutes idle, the
// Prometheus default, covers any sensible probe or watch interval.
inline constexpr std::size_t kMaxIdleConnections = 4096;
inline constexpr std::chrono::milliseconds kMaxConnectionIdle{5 * 60 * 1000};

// Bytes a response may put on the wire before its headers end (fetch/capped_client.h).
// cpp-httplib 0.11 keeps every header line it reads, at about 100 bytes of memory for as
// little as 6 bytes of wire: a target sending headers without end grew the exporter by
// hundreds of MB a second until the deadline. Real pprof responses carry a few hundred bytes.
inline constexpr std::size_t kMaxResponseHeaderBytes = 64u << 10;
// A line of a response that cpp-httplib reads as a line (a header, a chunk size, a trailer):
// it grows a buffer for a line without end, which the body cap, counted on the chunks'
// contents, never sees. Real ones are a few dozen bytes; cpp-httplib refuses header lines
// over 8 KiB anyway.
inline constexpr std::size_t kMaxResponseLineBytes = 16u << 10;
// Bytes a whole response may put on the wire: the body cap, an eighth more for chunked
// framing (Go's server adds well under 1 %), and the headers.
inline constexpr std::size_t MaxResponseWireBytes(std::size_t max_body_bytes) {
  return max_body_bytes + max_body_bytes / 8 + kMaxResponseHeaderBytes;
}

// Requests to the exporter's own HTTP server (expose/capped_server.h). cpp-httplib 0.11 keeps
// every request header line, grows a buffer for a line without end, and bounds only each
// single wait: one connection sending headers without end grew the exporter by 840 MB in 5 s
// (measured), and one sending a byte every few seconds held a worker for good. Prometheus
// sends a few hundred bytes of headers (Go's own servers allow 1 MiB); cpp-httplib refuses
// request lines and header lines over 8 KiB anyway, so a longer run is a line without end.
inline constexpr std::size_t kMaxRequestHeaderBytes = 64u << 10;
inline constexpr std::size_t kMaxRequestLineBytes = 16u << 10;
// Request bodies: only /-/reload takes a POST, and it reads no body.
inline constexpr std::size_t kMaxRequestBodyBytes = 64u << 10;
// A whole request must arrive within this from its first byte, and a whole response be taken
// within kResponseWriteTimeout from its first byte, so that a client sending or reading a
// byte at a time holds one of the --web.max-requests workers for so long at most.
// Prometheus sends a scrape at once and reads a /metrics page of many MB in well under a
// second.
inline constexpr std::chrono::milliseconds kRequestReadTimeout{10 * 1000};
inline constexpr std::chrono::milliseconds kResponseWriteTimeout{60 * 1000};
// A TLS handshake must end within this: the client's first flight and its certificate.
inline constexpr std::chrono::milliseconds kTlsHandshakeTimeout{10 * 1000};

// Function names whose rule matches a classifier remembers (classify/match_cache.h): far more
// than the functions of the services one exporter watches, few enough (~100 bytes each) that
// a target inventing names cannot grow memory past a few MiB; beyond it names are matched
// every time.
inline constexpr std::size_t kMaxCachedFunctionMatches = 50000;

// glibc malloc (common/allocator.h). Each HTTP worker thread would get its own arena and keep
// freed memory there, so a burst of large profiles would pin that much RSS per thread: two
// arenas keep memory near the working set at no measurable cost (docs/BENCHMARKS.md).
inline constexpr int kMallocArenas = 2;
// glibc's mmap and trim thresholds are left to adapt on their own: raising them (heap kept
// across probes, handed back only by the daemon's malloc_trim every 5 s) saved page faults on
// 10k-stack profiles but cost memory: 46 instead of 36-40 KiB per target with 1,000 watched
// targets (bench/run.sh, watch mode, 2026-11-27).

// Decoder (decode/profile_decoder.cc). A gzip body up to this size is kept whole and inflated
// in one call by libdeflate at the end (debug=0 bodies are a few KB even for 1M goroutines,
// FORMATS.md §4); larger ones stream through zlib so that big gzipped text dumps keep bounded
// memory.
inline constexpr std::size_t kWholeGzipBytes = 1u << 20;
// The output buffer is sized from the gzip trailer, which the body itself states: only up to
// this ratio is it believed (real profiles compress 1.5-2.5x), so that a lying trailer costs
// at most this many times the body in a buffer; beyond it, zlib streams as for big bodies.
inline constexpr std::size_t kWholeGzipMaxRatio = 16;

// A target, from /probe?target= or a watch config: far longer than any host:port or URL of a
// pprof endpoint. One cap for both, since a watch target is probed like any other.
inline constexpr std::size_t kMaxTargetBytes = 1024;
// Targets whose probe state (last result, fetch plan) the prober keeps between probes;
// beyond this the least recently used is dropped.
inline constexpr std::size_t kMaxTrackedTargets = 10000;
// Stacks listed by /report (?top=): each is a few lines, or up to 512 frames with ?frames=1.
inline constexpr int kMaxReportStacks = 1000;
inline constexpr int kMaxReportStacksWithFrames = 100;
// Label sets of a stack that the history keeps for diff rows (the most frequent ones).
inline constexpr std::size_t kLabelSetsPerStack = 8;
// Watch-mode workers whatever the config says, so a typo cannot start thousands of threads.
inline constexpr int kMaxWatchWorkers = 64;

// Configuration files (config/). Each cap is far above any sensible setup and exists to stop a
// mistake (or a hostile file) from growing memory or time.
inline constexpr std::size_t kMaxConfigBytes = 4u << 20;
// Bytes of keys and values read out of one YAML document (config, web config, file_sd):
// several times the largest document, so only aliases that repeat long text reach it.
inline constexpr std::size_t kMaxYamlBytesRead = 4 * kMaxConfigBytes;
inline constexpr std::size_t kMaxFileSdBytes = 1u << 20;   // per file_sd file
inline constexpr std::size_t kMaxFileSdTargets = 10000;    // per file_sd config, all files
inline constexpr std::size_t kMaxFileSdFiles = 1000;       // files matched per file_sd config
inline constexpr std::size_t kMaxStaticTargets = 10000;    // all static_configs together
inline constexpr std::size_t kMaxLabelKeys = 32;           // pprof label keys that split series
inline constexpr std::size_t kMaxLabelKeyBytes = 64;
inline constexpr std::size_t kMaxTargetLabelValueBytes = 1024;
// Labels of one target group (static_configs, file_sd): every target of the group carries a
// copy, and up to kMaxFileSdTargets + kMaxStaticTargets targets are watched.
inline constexpr std::size_t kMaxTargetLabels = 64;
inline constexpr std::size_t kMaxTargetLabelsBytes = 4096;
inline constexpr std::size_t kMaxProfilePathBytes = 1024;  // a module's profile paths
inline constexpr std::size_t kMaxHeaderNameBytes = 256;    // a module's extra request headers
inline constexpr std::size_t kMaxHeaderValueBytes = 8192;
inline constexpr std::size_t kMaxModuleNameBytes = 128;
inline constexpr std::size_t kMaxHostNameBytes = 253;      // DNS names (target allowlist)
// Addresses of a host name considered for a ConnectPolicy, and named in its refusal: a name
// has a handful; a hostile DNS answer could list hundreds.
inline constexpr std::size_t kMaxResolvedAddresses = 32;
inline constexpr std::size_t kMaxAddressesInError = 4;
// Host name lookups still running after their callers gave up at the deadline
// (fetch/bounded_resolver.h): each holds a thread until the system resolver answers or gives
// up (10 s and more when DNS does not answer). Beyond this many, new lookups fail at once: a
// resolver that stopped answering costs this many threads, not one per probe. Lookups that
// callers still wait for are bounded by the probe and watch workers that wait.
inline constexpr std::size_t kMaxPendingDnsLookups = 32;
inline constexpr std::chrono::milliseconds kMaxProbeTimeout{5 * 60 * 1000};
inline constexpr std::chrono::milliseconds kMaxInterval{24 * 3600 * 1000};
inline constexpr std::chrono::milliseconds kMaxHistoryAge{7 * 24 * 3600 * 1000LL};
// Classification rule patterns come from config files: bound their size and RE2's memory.
inline constexpr std::size_t kMaxPatternBytes = 2048;
inline constexpr int64_t kMaxRe2Memory = 1 << 20;
// Rules and ignore entries of one config (all modules together; YAML aliases can repeat a
// list in every module), each compiled into RE2 patterns per module; their patterns and
// names; and modules (each holds its own rules and classifier).
inline constexpr std::size_t kMaxRules = 2000;
inline constexpr std::size_t kMaxPatternsPerRule = 32;
inline constexpr std::size_t kMaxRuleNameBytes = 128;
inline constexpr std::size_t kMaxModules = 1000;
// The web config (TLS and basic auth, config/web_config.h).
inline constexpr std::size_t kMaxWebConfigBytes = 1u << 20;
inline constexpr std::size_t kMaxUsers = 1000;
inline constexpr std::size_t kMaxUserBytes = 256;
// "Basic " plus base64 of user:password; bcrypt only reads 72 password bytes, so a few KiB
// is far more than any real credential.
inline constexpr std::size_t kMaxAuthorizationBytes = 4096;

// goroutine_triage fetches a debug=2 dump only from targets with at most this many
// goroutines (--force overrides): about 70 ms of stopped world (FORMATS.md §4: 7 ms per
// 1,000), acceptable once by hand; the exporter's own default (debug2.max_goroutines) is lower
// because it fetches again and again.
inline constexpr int64_t kTriageMaxDebug2Goroutines = 10000;

}  // namespace gx
