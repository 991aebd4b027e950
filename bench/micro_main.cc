// In-process micro benchmarks (Google Benchmark) over real bodies read from disk:
//
//   decode0/<name>       AnalyzeBody on a debug=0 body: gunzip + protobuf decode + normalize +
//                        aggregate + classify (what a first probe does with the body)
//   decode0_steady/<name> the same with the caches that live across probes warm (stack shapes,
//                        the classifier's rule matches): the exporter probing a target again
//                        (or a replica of the same code)
//   decode0_only/<name>  ProfileDecoder alone into a sink that drops records (no aggregation)
//   inflate0/<name>      zlib inflate of the same gzip body into a reused buffer (the limit)
//   inflate0_libdeflate/<name>  libdeflate's one-shot gzip decompression (the faster limit)
//   render/...           ProbeMetricFamilies + SerializeText for about 10k series
//
// Usage: bench_micro --debug0 NAME=PATH [--debug0 NAME=PATH ...] [--render-snapshot PATH]
//                    [--render-small PATH] [--render-series N] [benchmark flags...]
// Bodies are read once before timing; nothing here touches the network.
#include <benchmark/benchmark.h>
#include <libdeflate.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "drop_sink.h"
#include "aggregate/aggregator.h"
#include "classify/classifier.h"
#include "common/allocator.h"
#include "common/limits.h"
#include "decode/profile_decoder.h"
#include "expose/probe_metrics.h"
#include "probe/prober.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench_micro: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const gx::Classifier& SharedClassifier() {
  static const gx::Classifier classifier;
  return classifier;
}

using gx::bench::DropSink;

// Inflates a gzip body into `out` (reused); returns the decompressed size.
std::size_t Inflate(const std::string& body, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  std::size_t total = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (total == out->size()) out->resize(out->size() * 2 + 4096);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + total);
    zs.avail_out = static_cast<uInt>(out->size() - total);
    rc = inflate(&zs, Z_NO_FLUSH);
    total = out->size() - zs.avail_out;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    std::fprintf(stderr, "bench_micro: inflate failed (%d)\n", rc);
    std::exit(2);
  }
  return total;
}

void RegisterDebug0(const std::string& name, const std::string& path) {
  auto body = std::make_shared<std::string>(ReadFile(path));
  // Check once that the body decodes, and record its shape as counters.
  auto first = gx::AnalyzeBody(*body, SharedClassifier(), gx::Limits{}, name);
  if (!first.ok()) {
    std::fprintf(stderr, "bench_micro: %s: %s\n", path.c_str(), first.status().message().c_str());
    std::exit(2);
  }
  const double goroutines = static_cast<double>(first->total);
  const double stacks = static_cast<double>(first->stacks.size());
  const double samples = static_cast<double>(first->info.records);
  std::string scratch;
  const double inflated = static_cast<double>(Inflate(*body, &scratch));

  auto set_counters = [=](benchmark::State& state) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
    state.counters["body_bytes"] = static_cast<double>(body->size());
    state.counters["inflated_bytes"] = inflated;
    state.counters["goroutines"] = goroutines;
    state.counters["samples"] = samples;
    state.counters["stacks"] = stacks;
  };

  benchmark::RegisterBenchmark(("decode0/" + name).c_str(), [=](benchmark::State& state) {
    // The last iteration's snapshot is held while the next one is built, as an exporter
    // holds results while it probes; nothing is shared with it. (Without it the heap empties
    // at the end of every iteration and glibc hands its top back to the kernel, so that the
    // next iteration faults every page in again: an artifact of the loop, a fifth to a third
    // of the time on the 10k-stack profile.)
    gx::Result<gx::Snapshot> previous = gx::Status::Error("none yet");
    for (auto _ : state) {
      // A first probe: nothing remembered from earlier ones, neither stack shapes nor which
      // rules function names match (a new classifier has an empty match cache; building one
      // with no user rules takes about a microsecond and is timed too).
      gx::Classifier first_time;
      auto snap = gx::AnalyzeBody(*body, first_time, gx::Limits{}, name);
      benchmark::DoNotOptimize(snap);
      previous = std::move(snap);
    }
    set_counters(state);
  })->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark(("decode0_steady/" + name).c_str(), [=](benchmark::State& state) {
    gx::StackShapeCache shapes(gx::Limits{}.max_cached_shapes);
    // The previous probe's snapshot stays alive while the next one is built, as in the
    // exporter (the target's last result is replaced only once the new one is ready).
    auto previous = gx::AnalyzeBody(*body, SharedClassifier(), gx::Limits{}, name, &shapes);
    for (auto _ : state) {
      auto snap = gx::AnalyzeBody(*body, SharedClassifier(), gx::Limits{}, name, &shapes);
      benchmark::DoNotOptimize(snap);
      previous = std::move(snap);
    }
    set_counters(state);
  })->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark(("decode0_only/" + name).c_str(), [=](benchmark::State& state) {
    for (auto _ : state) {
      DropSink sink;
      gx::ProfileDecoder decoder(&sink, gx::Limits{});
      gx::Status st = decoder.Feed(*body);
      if (st.ok()) st = decoder.Finish();
      benchmark::DoNotOptimize(sink.records);
      if (!st.ok()) state.SkipWithError(st.message().c_str());
    }
    set_counters(state);
  })->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark(("inflate0/" + name).c_str(), [=](benchmark::State& state) {
    std::string out(static_cast<std::size_t>(inflated) + 1, '\0');
    for (auto _ : state) {
      benchmark::DoNotOptimize(Inflate(*body, &out));
    }
    set_counters(state);
  })->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark(("inflate0_libdeflate/" + name).c_str(), [=](benchmark::State& state) {
    std::string out(static_cast<std::size_t>(inflated), '\0');
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    for (auto _ : state) {
      std::size_t n = 0;
      if (libdeflate_gzip_decompress(d, body->data(), body->size(), out.data(), out.size(), &n) !=
          LIBDEFLATE_SUCCESS) {
        state.SkipWithError("libdeflate failed");
        break;
      }
      benchmark::DoNotOptimize(n);
    }
    libdeflate_free_decompressor(d);
    set_counters(state);
  })->Unit(benchmark::kMicrosecond);
}

std::shared_ptr<const gx::Snapshot> SnapshotOf(const std::string& path) {
  std::string body = ReadFile(path);
  auto snap = gx::AnalyzeBody(body, SharedClassifier(), gx::Limits{}, path);
  if (!snap.ok()) {
    std::fprintf(stderr, "bench_micro: %s: %s\n", path.c_str(), snap.status().message().c_str());
    std::exit(2);
  }
  return std::make_shared<const gx::Snapshot>(std::move(snap).value());
}

std::shared_ptr<const gx::ProbeResult> ResultOf(std::shared_ptr<const gx::Snapshot> snap,
                                                const std::string& target) {
  auto r = std::make_shared<gx::ProbeResult>();
  r->target = target;
  r->module = "default";
  r->success = true;
  r->duration_seconds = 0.01;
  r->snapshot = std::move(snap);
  gx::FetchRecord f;
  f.profile = "goroutine";
  f.debug = 0;
  f.performed = true;
  f.bytes = 4096;
  r->fetches.push_back(f);
  return r;
}

std::size_t CountSeries(const std::string& text) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos && text[pos] != '#') ++n;
    pos = end + 1;
  }
  return n;
}

// One target whose profile has many distinct stacks, exported with top_k raised so that
// every stack is a series (a /probe answer for a big profile).
void RegisterRenderOneTarget(const std::string& path, int series_goal) {
  auto result = ResultOf(SnapshotOf(path), "synthetic:6060");
  gx::Module module;
  module.top_k = series_goal;
  module.top_k_growth = 0;
  gx::ExposeOptions options = gx::ExposeOptionsFor(module);
  const std::string text = gx::SerializeText(gx::ProbeMetricFamilies(*result, options));
  const double series = static_cast<double>(CountSeries(text));
  const double bytes = static_cast<double>(text.size());
  benchmark::RegisterBenchmark("render/one_target_many_stacks", [=](benchmark::State& state) {
    for (auto _ : state) {
      std::string out = gx::SerializeText(gx::ProbeMetricFamilies(*result, options));
      benchmark::DoNotOptimize(out);
    }
    state.counters["series"] = series;
    state.counters["targets"] = 1;
    state.counters["text_bytes"] = bytes;
  })->Unit(benchmark::kMillisecond);
}

// Watch mode's /metrics: many targets with the default module (top_k 20), each with its
// target label, merged with AppendFamilies exactly as the daemon does, until ~series_goal.
void RegisterRenderManyTargets(const std::string& path, int series_goal) {
  auto snap = SnapshotOf(path);
  gx::Module module;
  auto options_for = [&](int i) {
    gx::ExposeOptions o = gx::ExposeOptionsFor(module);
    o.target_labels.emplace_back("target", "127.0.0.1:" + std::to_string(20000 + i));
    return o;
  };
  auto one = ResultOf(snap, "127.0.0.1:20000");
  std::size_t per_target =
      CountSeries(gx::SerializeText(gx::ProbeMetricFamilies(*one, options_for(0))));
  int targets = static_cast<int>((series_goal + per_target - 1) / per_target);
  std::vector<std::shared_ptr<const gx::ProbeResult>> results;
  std::vector<gx::ExposeOptions> options;
  for (int i = 0; i < targets; ++i) {
    results.push_back(ResultOf(snap, "127.0.0.1:" + std::to_string(20000 + i)));
    options.push_back(options_for(i));
  }
  auto render = [results, options]() {
    std::vector<prometheus::MetricFamily> families;
    for (std::size_t i = 0; i < results.size(); ++i) {
      gx::AppendFamilies(&families, gx::ProbeMetricFamilies(*results[i], options[i]));
    }
    return gx::SerializeText(families);
  };
  const std::string text = render();
  const double series = static_cast<double>(CountSeries(text));
  const double bytes = static_cast<double>(text.size());
  benchmark::RegisterBenchmark("render/many_targets_default_module", [=](benchmark::State& state) {
    for (auto _ : state) {
      std::string out = render();
      benchmark::DoNotOptimize(out);
    }
    state.counters["series"] = series;
    state.counters["targets"] = static_cast<double>(targets);
    state.counters["text_bytes"] = bytes;
  })->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  gx::ConfigureAllocator();  // malloc set up as the daemon sets it
  std::vector<char*> rest;
  rest.push_back(argv[0]);
  std::string render_snapshot, render_small;
  int series_goal = 10000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_micro: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--debug0") {
      std::string spec = value();
      auto eq = spec.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "bench_micro: --debug0 wants NAME=PATH\n");
        return 2;
      }
      RegisterDebug0(spec.substr(0, eq), spec.substr(eq + 1));
    } else if (arg == "--render-snapshot") {
      render_snapshot = value();
    } else if (arg == "--render-small") {
      render_small = value();
    } else if (arg == "--render-series") {
      series_goal = std::stoi(value());
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!render_snapshot.empty()) RegisterRenderOneTarget(render_snapshot, series_goal);
  if (!render_small.empty()) RegisterRenderManyTargets(render_small, series_goal);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
