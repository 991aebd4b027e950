#include "common/clock.h"
#include "common/files.h"
#include "probe/prober.h"


#include "classify/classifier.h"
#include "decode/text_util.h"
#include "pipeline/capture.h"

namespace gx {
namespace {

using Clock = std::chrono::steady_clock;

std::string Base64(std::string_view in) {
  static const char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kChars[v >> 18], kChars[(v >> 12) & 63], kChars[(v >> 6) & 63], kChars[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kChars[v >> 18], kChars[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kChars[v >> 18], kChars[(v >> 12) & 63], kChars[(v >> 6) & 63], '='};
  }
  return out;
}

// Reads a small secret file (token, password); trailing newlines are dropped.
Result<std::string> ReadSecret(const std::string& path) {
  std::string s;
  Status st = ReadBounded(path, 64 * 1024, &s);
  if (!st.ok()) return Status::Error("cannot read secret file " + path);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

Result<CaptureOptions> OptionsFor(const Module& module, const Limits& limits,
                                  std::chrono::milliseconds timeout) {
  CaptureOptions o;
  o.limits = limits;
  o.limits.max_compressed_bytes = std::min(limits.max_compressed_bytes, module.max_response_bytes);
  o.limits.max_text_bytes = std::min(limits.max_text_bytes, module.max_response_bytes);
  o.timeout = timeout;
  o.tls = module.tls;
  o.headers = module.headers;
  if (!module.bearer_token_file.empty()) {
    auto token = ReadSecret(module.bearer_token_file);
    if (!token.ok()) return token.status();
    o.headers["Authorization"] = "Bearer " + token.value();
  } else if (!module.basic_auth_username.empty()) {
    std::string password;
    if (!module.basic_auth_password_file.empty()) {
      auto p = ReadSecret(module.basic_auth_password_file);
      if (!p.ok()) return p.status();
      password = p.value();
    }
    o.headers["Authorization"] = "Basic " + Base64(module.basic_auth_username + ":" + password);
  }
  return o;
}

FetchRecord Record(const char* profile, int debug) {
  FetchRecord r;
  r.profile = profile;
  r.debug = debug;
  return r;
}

std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

}  // namespace

Result<TargetAddress> ResolveTarget(const std::string& target, const Module& module) {
  if (target.empty()) return Status::Error("target is empty");
  if (target.size() > kMaxTargetBytes) return Status::Error("target is too long");
  std::string url = target.find("://") != std::string::npos ? target : module.scheme + "://" + target;
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->path_and_query != "/") {
    return Status::Error("target must be host:port or scheme://host:port; the path comes from the module");
  }
  TargetAddress out;
  out.base_url = parsed->scheme + "://" + parsed->HostPort();
  out.host = parsed->host;
  return out;
}

Prober::Prober(const Limits& limits, std::size_t memory_budget_bytes)
    : limits_(limits), shapes_(limits.max_cached_shapes), memory_(memory_budget_bytes) {}

std::size_t Prober::tracked_targets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return states_.size();
}

void Prober::EvictIfFull() {
  if (states_.size() < kMaxTrackedTargets) return;
  auto oldest = states_.end();
  for (auto it = states_.begin(); it != states_.end(); ++it) {
    if (it->second.inflight.valid()) continue;
    if (oldest == states_.end() || it->second.last_used_ms < oldest->second.last_used_ms) {
      oldest = it;
    }
  }
  if (oldest != states_.end()) states_.erase(oldest);
}

std::shared_ptr<const ProbeResult> Prober::Probe(
    const std::string& target, const Module& module, std::chrono::milliseconds budget,
    std::shared_ptr<const ConnectPolicy> connect_policy) {
  // One state per address, however it is spelled ("h:6060", "h:06060", "http://h:6060").
  const auto address = ResolveTarget(target, module);
  // Results fetched under one connect policy are never served under another (a watched
  // target's fetch to a name's unchecked address, or one made before the ranges changed), nor
  // under other label_keys (past what a snapshot keeps, its label sets hold only the keys in
  // force when it was captured).
  std::string key = module.name + "\x1f" + (address.ok() ? address->base_url : target) +
                    (connect_policy ? "\x1fpolicy:" + connect_policy->key : "");
  if (!module.label_keys.empty()) {
    key += "\x1fkeys";
    for (const std::string& k : module.label_keys) key += ":" + k;
  }
  const int64_t now_ms = NowUnixMs();
  std::promise<std::shared_ptr<const ProbeResult>> promise;
  TargetState snapshot_of_state;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = states_.find(key);
    if (it == states_.end()) {
      EvictIfFull();
      it = states_.emplace(key, TargetState()).first;
    }
    TargetState& st = it->second;
    st.last_used_ms = now_ms;
    if (st.last && module.min_interval.count() > 0 &&
        now_ms - st.last->time_ms < module.min_interval.count()) {
      auto cached = std::make_shared<ProbeResult>(*st.last);
      cached->cached = true;
      cached->target = target;  // as this caller spells it (the state is per address)
      for (FetchRecord& f : cached->fetches) {
        if (f.performed) f.skipped = SkipReason::kMinInterval;
        f.performed = false;
        f.bytes = 0;
      }
      return cached;
    }
    if (st.inflight.valid()) {
      // Another probe of this target is fetching: share its result.
      auto shared = st.inflight;
      lock.unlock();
      if (shared.wait_for(budget) == std::future_status::ready) {
        auto copy = std::make_shared<ProbeResult>(*shared.get());
        copy->shared = true;
        copy->target = target;
        return copy;
      }
      auto timeout = std::make_shared<ProbeResult>();
      timeout->shared = true;
      timeout->target = target;
      timeout->module = module.name;
      timeout->time_ms = now_ms;
      timeout->error_kind = FetchError::kTimeout;
      timeout->error = "timed out waiting for a concurrent probe of the same target";
      return timeout;
    }
    st.inflight = promise.get_future().share();
    snapshot_of_state = st;
    snapshot_of_state.inflight = {};
  }

  TargetState updated = snapshot_of_state;
  std::shared_ptr<const ProbeResult> result;
  try {
    result = Run(target, address, module, budget, connect_policy, &updated);
  } catch (const std::exception& e) {
    // Never leave the in-flight marker set: waiting and future probes would hang on it.
    auto failed = std::make_shared<ProbeResult>();
    failed->target = target;
    failed->module = module.name;
    failed->time_ms = now_ms;
    failed->error_kind = FetchError::kOther;
    failed->error = std::string("internal error: ") + e.what();
    result = failed;
    updated = snapshot_of_state;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    TargetState& st = states_[key];
    updated.inflight = {};
    updated.last_used_ms = NowUnixMs();
    if (result->success) updated.last = result;
    st = std::move(updated);
  }
  promise.set_value(result);
  return result;
}

Result<CaptureOptions> Prober::FetchOptions(
    const Module& module, std::chrono::milliseconds timeout,
    const std::shared_ptr<const ConnectPolicy>& connect_policy) {
  auto options = OptionsFor(module, limits_, timeout);
  if (options.ok()) {
    options->shapes = &shapes_;
    options->memory_budget = &memory_;
    options->label_keys = module.label_keys;
    options->connections = &connections_;
    options->connect_policy = connect_policy;
  }
  return options;
}

std::shared_ptr<ProbeResult> Prober::Run(const std::string& target,
                                         const Result<TargetAddress>& address,
                                         const Module& module, std::chrono::milliseconds budget,
                                         const std::shared_ptr<const ConnectPolicy>& connect_policy,
                                         TargetState* updated) {
  const auto start = Clock::now();
  const auto deadline = start + budget;
  auto result = std::make_shared<ProbeResult>();
  result->target = target;
  result->module = module.name;
  result->time_ms = NowUnixMs();
  auto finish = [&]() {
    result->duration_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };

  if (!address.ok()) {
    result->error = address.status().message();
    result->error_kind = FetchError::kBadUrl;
    return finish();
  }
  const std::shared_ptr<const Classifier> classifier =
      module.classifier ? module.classifier : std::make_shared<const Classifier>(module.rules);

  // 1. The cheap profile, every time.
  FetchRecord cheap = Record("goroutine", 0);
  auto options = FetchOptions(module, std::min(budget, module.timeout), connect_policy);
  if (!options.ok()) {
    result->error = options.status().message();
    result->error_kind = FetchError::kOther;
    return finish();
  }
  // For /api/v1/capture; one is kept per tracked target.
  options->keep_raw_bytes = std::min(module.max_response_bytes, kMaxKeptRawBytes);
  auto t0 = Clock::now();
  FetchError cheap_error = FetchError::kNone;
  int64_t cheap_bytes = 0;
  auto capture = CaptureUrl(address->base_url + module.path + "?debug=0", *classifier,
                            options.value(), &cheap_error, &cheap_bytes);
  cheap.performed = true;
  cheap.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!capture.ok()) {
    cheap.bytes = cheap_bytes;
    cheap.failed = true;
    cheap.error = capture.status().message();
    result->error = cheap.error;
    cheap.error_kind = cheap_error;
    result->error_kind = cheap_error;
    result->fetches.push_back(cheap);
    for (const char* profile : {"goroutineleak", "goroutine"}) {
      FetchRecord skipped = Record(profile, std::string(profile) == "goroutine" ? 2 : 0);
      skipped.skipped = SkipReason::kCheapFailed;
      result->fetches.push_back(skipped);
    }
    return finish();
  }
  cheap.bytes = capture->snapshot.info.input_bytes;
  cheap.data_time_ms = capture->snapshot.captured_unix_ms;
  result->fetches.push_back(cheap);
  result->raw = std::make_shared<const std::string>(std::move(capture->raw));
  result->snapshot = std::make_shared<const Snapshot>(std::move(capture->snapshot));
  result->success = true;
  const int64_t total = result->snapshot->total;

  // 2. The expensive profiles, only when the planner allows; otherwise reuse.
  struct Expensive {
    const char* profile;
    int debug;
    const ExpensiveFetchPolicy* policy;
    const std::string* path;
    ExpensiveFetchState* fetch_state;
    std::shared_ptr<const Snapshot>* kept;
  };
  // goroutineleak first: a debug=2 dump taken after it shows which goroutines it proved leaked.
  Expensive plans[] = {
      {"goroutineleak", 0, &module.goroutineleak, &module.leak_path, &updated->leak_state, &updated->leak},
      {"goroutine", 2, &module.debug2, &module.path, &updated->debug2_state, &updated->debug2},
  };
  for (const Expensive& plan : plans) {
    FetchRecord rec = Record(plan.profile, plan.debug);
    const int64_t now_ms = NowUnixMs();
    rec.skipped = PlanExpensiveFetch(*plan.policy, total, now_ms, *plan.fetch_state,
                                     Remaining(deadline).count());
    if (rec.skipped == SkipReason::kNone) {
      auto opts =
          FetchOptions(module, std::min(Remaining(deadline), module.timeout), connect_policy);
      auto t = Clock::now();
      FetchError kind = FetchError::kOther;
      int64_t received = 0;
      Result<Capture> c = opts.ok() ? CaptureUrl(address->base_url + *plan.path + "?debug=" +
                                                     std::to_string(plan.debug),
                                                 *classifier, opts.value(), &kind, &received)
                                    : Result<Capture>(opts.status());
      rec.performed = true;
      rec.seconds = std::chrono::duration<double>(Clock::now() - t).count();
      plan.fetch_state->last_fetch_ms = now_ms;
      if (c.ok()) {
        rec.bytes = c->snapshot.info.input_bytes;
        *plan.kept = std::make_shared<const Snapshot>(std::move(c->snapshot));
        if (plan.debug == 2) {
          updated->debug2_categories = std::make_shared<const Debug2Categories>(
              Debug2Categories::From(**plan.kept, *classifier));
          updated->categories_rules = classifier->user_rules_fingerprint();
        }
      } else {
        rec.bytes = received;
        rec.failed = true;
        rec.error = c.status().message();
        rec.error_kind = kind;
        if (kind == FetchError::kHttpStatus && rec.error.find("HTTP 404") != std::string::npos) {
          // Go <= 1.25, or 1.26 without the experiment: no goroutineleak profile. (The same
          // for a debug=2 404, from a server that filters query strings.)
          plan.fetch_state->unsupported_until_ms = now_ms + kUnsupportedMemoryMs;
          rec.skipped = SkipReason::kUnsupported;
          *plan.kept = nullptr;
        }
      }
    }
    if (*plan.kept && !StillReusable(*plan.policy, (*plan.kept)->captured_unix_ms, now_ms)) {
      *plan.kept = nullptr;
    }
    if (*plan.kept) rec.data_time_ms = (*plan.kept)->captured_unix_ms;
    result->fetches.push_back(rec);
  }
  result->debug2 = updated->debug2;
  result->leak = updated->leak;

  // 3. What only the last debug=2 dump could tell, applied to this debug=0 result (also
  // between dumps, so that those stacks keep their category).
  if (updated->debug2_categories &&
      updated->categories_rules == classifier->user_rules_fingerprint()) {
    if (auto patched = updated->debug2_categories->ApplyTo(*result->snapshot)) {
      result->snapshot = std::move(patched);
    }
  }
  return finish();
}

}  // namespace gx
