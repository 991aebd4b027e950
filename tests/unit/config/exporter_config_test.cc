#include "config/exporter_config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config_values.h"

namespace gx {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

const char* const kFullConfig = R"(modules:
  default:
    scheme: https
    path: /custom/goroutine
    leak_path: /custom/leak
    timeout: 5s
    max_response_bytes: 1048576
    min_interval: 2s
    debug2: {enabled: false, max_goroutines: 500, min_interval: 20m}
    goroutineleak: {enabled: true, max_goroutines: 3000, min_interval: 1h}
    tls_config: {ca_file: /ca.pem, cert_file: /cert.pem, key_file: /key.pem, insecure_skip_verify: true}
    bearer_token_file: /token
    headers: {X-Foo: bar, X-Tenant: "a b"}
    label_keys: [route, tenant]
    top_k: 30
    top_k_growth: 5
    max_label_values: 50
    rules:
      - name: my-worker
        category: idle_server
        any_function: '^example\.com/pool\.worker$'
    ignore:
      - top_function: '^example\.com/poller\.loop$'
  basic:
    basic_auth: {username: u, password_file: /pw}
  empty:
probe:
  allowed_targets:
    hosts: ['localhost', '*.svc.cluster.local']
    cidrs: ['127.0.0.0/8', '10.0.0.0/8', '::1/128']
watch:
  interval: 1m
  timeout: 20s
  concurrency: 8
  jitter: 0.25
  target_label: instance
  history: {max_snapshots: 10, max_age: 30m, max_targets: 5000}
  static_configs:
    - targets: ['127.0.0.1:6060', 'http://app:8080']
      module: basic
      labels: {service: x}
    - targets: ['a:1']
  file_sd_configs:
    - files: ['/etc/x/*.json', '/etc/y/*.yml']
      refresh_interval: 45s
      module: empty
)";

TEST_CASE("a full config parses into every field") {
  auto parsed = ParseConfig(kFullConfig, "full.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const Config& c = *parsed.value();
  CHECK(c.source == "full.yml");
  CHECK(c.checksum.size() == 16);
  REQUIRE(c.modules.size() == 3);

  const Module* m = c.FindModule("default");
  REQUIRE(m != nullptr);
  CHECK(m->name == "default");
  CHECK(m->scheme == "https");
  CHECK(m->path == "/custom/goroutine");
  CHECK(m->leak_path == "/custom/leak");
  CHECK(m->timeout == milliseconds(5000));
  CHECK(m->max_response_bytes == 1048576);
  CHECK(m->min_interval == milliseconds(2000));
  CHECK_FALSE(m->debug2.enabled);
  CHECK(m->debug2.max_goroutines == 500);
  CHECK(m->debug2.min_interval == std::chrono::minutes(20));
  CHECK(m->goroutineleak.enabled);
  CHECK(m->goroutineleak.max_goroutines == 3000);
  CHECK(m->goroutineleak.min_interval == std::chrono::hours(1));
  CHECK(m->tls.ca_file == "/ca.pem");
  CHECK(m->tls.cert_file == "/cert.pem");
  CHECK(m->tls.key_file == "/key.pem");
  CHECK(m->tls.insecure_skip_verify);
  CHECK(m->bearer_token_file == "/token");
  CHECK(m->headers == std::map<std::string, std::string>{{"X-Foo", "bar"}, {"X-Tenant", "a b"}});
  CHECK(m->label_keys == std::vector<std::string>{"route", "tenant"});
  CHECK(m->top_k == 30);
  CHECK(m->top_k_growth == 5);
  CHECK(m->max_label_values == 50);
  REQUIRE(m->rules.size() == 2);
  CHECK(m->rules[0].category == Category::kIgnored);  // ignore-lists first
  CHECK(m->rules[1].name == "my-worker");
  CHECK(m->rules[1].category == Category::kIdleServer);

  const Module* basic = c.FindModule("basic");
  REQUIRE(basic != nullptr);
  CHECK(basic->basic_auth_username == "u");
  CHECK(basic->basic_auth_password_file == "/pw");
  CHECK(basic->path == "/debug/pprof/goroutine");  // unset fields keep their defaults
  CHECK(basic->debug2.max_goroutines == 2000);

  const Module* empty = c.FindModule("empty");
  REQUIRE(empty != nullptr);
  CHECK(empty->top_k == 20);
  CHECK(c.FindModule("nope") == nullptr);

  CHECK_FALSE(c.allowlist.allow_any);
  CHECK(c.allowlist.host_globs == std::vector<std::string>{"localhost", "*.svc.cluster.local"});
  CHECK(c.allowlist.cidrs.size() == 3);

  const WatchConfig& w = c.watch;
  CHECK(w.interval == std::chrono::minutes(1));
  CHECK(w.timeout == std::chrono::seconds(20));
  CHECK(w.concurrency == 8);
  CHECK(w.jitter == doctest::Approx(0.25));
  CHECK(w.target_label == "instance");
  CHECK(w.history_max_snapshots == 10);
  CHECK(w.history_max_age == std::chrono::minutes(30));
  CHECK(w.history_max_targets == 5000);
  REQUIRE(w.static_configs.size() == 2);
  CHECK(w.static_configs[0].targets ==
        std::vector<std::string>{"127.0.0.1:6060", "http://app:8080"});
  CHECK(w.static_configs[0].module == "basic");
  CHECK(w.static_configs[0].labels.at("service") == "x");
  CHECK(w.static_configs[1].module == "default");
  REQUIRE(w.file_sd_configs.size() == 1);
  CHECK(w.file_sd_configs[0].files == std::vector<std::string>{"/etc/x/*.json", "/etc/y/*.yml"});
  CHECK(w.file_sd_configs[0].refresh_interval == std::chrono::seconds(45));
  CHECK(w.file_sd_configs[0].module == "empty");
}

TEST_CASE("byte sizes: plain bytes or KB/KiB, MB/MiB, GB/GiB, all powers of 1024") {
  CHECK(ParseByteSize("1048576") == 1048576);
  CHECK(ParseByteSize("100B") == 100);
  CHECK(ParseByteSize("512KB") == 512 << 10);
  CHECK(ParseByteSize("512KiB") == 512 << 10);
  CHECK(ParseByteSize("16MiB") == 16 << 20);
  CHECK(ParseByteSize("16MB") == 16 << 20);
  CHECK(ParseByteSize("1GiB") == int64_t{1} << 30);
  CHECK(ParseByteSize("1024GiB") == int64_t{1} << 40);
  for (const char* bad : {"", "MiB", "16 MiB", "16mib", "1.5MiB", "-1", "16TiB", "1025GiB",
                          "99999999999999999999", "16MiBx"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseByteSize(bad).has_value());
  }
  auto c = ParseConfig("modules:\n  default:\n    max_response_bytes: 512KiB\n", "t.yml");
  REQUIRE(c.ok());
  CHECK(c.value()->FindModule("default")->max_response_bytes == 512u << 10);
}

TEST_CASE("the checksum is stable and follows the text") {
  auto a = ParseConfig("watch: {concurrency: 2}\n", "a");
  auto b = ParseConfig("watch: {concurrency: 2}\n", "b");
  auto c = ParseConfig("watch: {concurrency: 3}\n", "a");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a.value()->checksum == b.value()->checksum);
  CHECK(a.value()->checksum != c.value()->checksum);
}

void CheckDefaults(const Config& c) {
  REQUIRE(c.modules.size() == 1);
  const Module* m = c.FindModule("default");
  REQUIRE(m != nullptr);
  CHECK(m->name == "default");
  CHECK(m->scheme == "http");
  CHECK(m->path == "/debug/pprof/goroutine");
  CHECK(m->leak_path == "/debug/pprof/goroutineleak");
  CHECK(m->timeout == std::chrono::seconds(10));
  CHECK(m->max_response_bytes == (16u << 20));
  CHECK(m->debug2.enabled);
  CHECK(m->debug2.max_goroutines == 2000);
  CHECK(m->debug2.min_interval == std::chrono::minutes(10));
  CHECK(m->goroutineleak.max_goroutines == 10000);
  CHECK(m->goroutineleak.min_interval == std::chrono::minutes(15));
  CHECK(m->top_k == 20);
  CHECK(m->rules.empty());
  CHECK(c.allowlist.allow_any);
  CHECK(c.allowlist.Allows("anything.example.com"));
  CHECK(c.watch.interval == std::chrono::seconds(30));
  CHECK(c.watch.concurrency == 4);
  CHECK(c.watch.target_label == "target");
  CHECK(c.watch.static_configs.empty());
}

TEST_CASE("defaults: DefaultConfig and empty documents") {
  CheckDefaults(*DefaultConfig());
  CHECK(DefaultConfig().get() == DefaultConfig().get());
  for (const char* text : {"", "# only a comment\n", "modules:\n", "modules: {}\nwatch: {}\n"}) {
    CAPTURE(text);
    auto parsed = ParseConfig(text, "empty.yml");
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
    CheckDefaults(*parsed.value());
  }
}

TEST_CASE("YAML aliases cannot make a small config read gigabytes") {
  std::string text = "modules:\n  default:\n    label_keys: [&a '" + std::string(1 << 20, 'k') + "'";
  for (int i = 0; i < 40; ++i) text += ", *a";
  text += "]\n";
  auto parsed = ParseConfig(text, "alias.yml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message().find("(YAML aliases repeating text?)") != std::string::npos);
}

TEST_CASE("rules are capped in all modules together, and their names in length") {
  // One list of 100 rules, repeated by alias in 21 modules: 2,100 rules to compile.
  std::string text = "modules:\n  m0:\n    rules: &r\n";
  for (int i = 0; i < 100; ++i) text += "      - {category: select, any_function: 'f" + std::to_string(i) + "'}\n";
  for (int m = 1; m <= 20; ++m) text += "  m" + std::to_string(m) + ": {rules: *r}\n";
  auto parsed = ParseConfig(text, "many.yml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message().find("more than 2000 rules and ignore entries in all modules") !=
        std::string::npos);
  parsed = ParseConfig("modules:\n  default:\n    rules:\n      - {name: '" + std::string(200, 'n') +
                           "', category: select, any_function: x}\n",
                       "long.yml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message().find("a rule name is a string of at most 128 bytes") !=
        std::string::npos);
}

TEST_CASE("the default watch timeout follows an interval shorter than it") {
  auto parsed = ParseConfig("watch:\n  interval: 5s\n", "w.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed.value()->watch.timeout == std::chrono::seconds(5));
  parsed = ParseConfig("watch:\n  interval: 5s\n  timeout: 3s\n", "w.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed.value()->watch.timeout == std::chrono::seconds(3));
}

TEST_CASE("an explicit default module replaces the built-in one") {
  auto parsed = ParseConfig("modules:\n  default:\n    top_k: 3\n  other: {}\n", "m.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed.value()->modules.size() == 2);
  CHECK(parsed.value()->FindModule("default")->top_k == 3);
}

TEST_CASE("a present but empty allowlist denies everything") {
  auto parsed = ParseConfig("probe:\n  allowed_targets: {hosts: [], cidrs: []}\n", "p.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK_FALSE(parsed.value()->allowlist.allow_any);
  CHECK_FALSE(parsed.value()->allowlist.Allows("localhost"));
  CHECK_FALSE(parsed.value()->allowlist.Allows("127.0.0.1"));

  auto absent = ParseConfig("probe: {}\n", "p.yml");
  REQUIRE(absent.ok());
  CHECK(absent.value()->allowlist.allow_any);
}

TEST_CASE("resolved_cidrs builds the policy host names connect under") {
  auto parsed = ParseConfig(
      "probe:\n  allowed_targets:\n    hosts: ['*.svc']\n"
      "    resolved_cidrs: ['10.0.0.0/8', 'fd00::/8']\n",
      "p.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const TargetAllowlist& allow = parsed.value()->allowlist;
  CHECK(allow.resolved_cidrs == std::vector<std::string>{"10.0.0.0/8", "fd00::/8"});
  REQUIRE(allow.connect_policy);
  const ConnectPolicy& policy = *allow.connect_policy;
  CHECK(policy.allows("10.1.2.3"));
  CHECK(policy.allows("::ffff:10.1.2.3"));  // IPv4-mapped, as a dual-stack lookup may answer
  CHECK(policy.allows("fd00::1"));
  CHECK_FALSE(policy.allows("127.0.0.1"));
  CHECK_FALSE(policy.allows("169.254.169.254"));
  CHECK_FALSE(policy.allows("not an address"));
  CHECK(policy.name == "probe.allowed_targets.resolved_cidrs");
  CHECK(policy.key == "10.0.0.0/8,fd00::/8");
  // The name check itself is unchanged: the ranges apply where the probe connects.
  CHECK(allow.Allows("api.svc"));
  CHECK_FALSE(allow.Allows("10.1.2.3"));  // literals still go by cidrs

  auto without = ParseConfig("probe:\n  allowed_targets: {hosts: ['*.svc']}\n", "p.yml");
  REQUIRE(without.ok());
  CHECK_FALSE(without.value()->allowlist.connect_policy);
  auto empty = ParseConfig("probe:\n  allowed_targets: {resolved_cidrs: []}\n", "p.yml");
  REQUIRE(empty.ok());
  CHECK_FALSE(empty.value()->allowlist.connect_policy);
}

TEST_CASE("bad configs are rejected with the file and line") {
  struct Case {
    const char* name;
    std::string yaml;
    const char* want;
  };
  const Case cases[] = {
      {"unknown top-level key", "modules: {}\nprobes: {}\n", "bad.yml:2: unknown key 'probes'"},
      {"unknown module key", "modules:\n  default:\n    timeout: 5s\n    tiemout: 5s\n",
       "bad.yml:4: unknown key 'tiemout' in module 'default'"},
      {"unknown watch key", "watch:\n  interval: 30s\n  intervall: 1m\n",
       "bad.yml:3: unknown key 'intervall' in watch"},
      {"unknown debug2 key", "modules:\n  m:\n    debug2: {enable: true}\n",
       "bad.yml:3: unknown key 'enable' in module 'm' debug2"},
      {"unknown tls key", "modules:\n  m:\n    tls_config:\n      ca: x\n",
       "bad.yml:4: unknown key 'ca' in module 'm' tls_config"},
      {"duplicate key", "watch:\n  concurrency: 2\n  concurrency: 3\n",
       "bad.yml:3: duplicate key 'concurrency'"},
      {"bad scheme", "modules:\n  default:\n    scheme: ftp\n",
       "bad.yml:3: scheme must be http or https"},
      {"relative path", "modules:\n  default:\n    path: debug/pprof\n",
       "bad.yml:3: path must start with '/'"},
      {"leak path with query", "modules:\n  default:\n    leak_path: /x?debug=1\n",
       "bad.yml:3: leak_path must not contain a query"},
      {"zero timeout", "modules:\n  default:\n    timeout: 0s\n", "bad.yml:3: timeout must be > 0s"},
      {"long timeout", "modules:\n  default:\n    timeout: 6m\n", "bad.yml:3: timeout must be"},
      {"bad duration", "modules:\n  default:\n    min_interval: soon\n",
       "bad.yml:3: min_interval: bad duration 'soon'"},
      {"unitless duration", "watch:\n  interval: 30\n", "bad.yml:2: interval: bad duration '30'"},
      {"small max_response_bytes", "modules:\n  default:\n    max_response_bytes: 100\n",
       "bad.yml:3: max_response_bytes must be between 1024 and 268435456"},
      {"huge max_response_bytes", "modules:\n  default:\n    max_response_bytes: 1073741824\n",
       "bad.yml:3: max_response_bytes must be between"},
      {"huge max_response_bytes with a unit", "modules:\n  default:\n    max_response_bytes: 1GiB\n",
       "bad.yml:3: max_response_bytes must be between 1024 and 268435456 bytes, got 1GiB"},
      {"size with a space", "modules:\n  default:\n    max_response_bytes: 16 MiB\n",
       "bad.yml:3: max_response_bytes: bad size '16 MiB'"},
      {"top_k zero", "modules:\n  default:\n    top_k: 0\n", "bad.yml:3: top_k must be between 1 and 1000"},
      {"top_k huge", "modules:\n  default:\n    top_k: 1001\n", "bad.yml:3: top_k must be between"},
      {"top_k text", "modules:\n  default:\n    top_k: many\n", "bad.yml:3: top_k must be an integer"},
      {"concurrency", "watch:\n  concurrency: 300\n", "bad.yml:2: concurrency must be between 1 and 256"},
      {"jitter", "watch:\n  jitter: 1.5\n", "bad.yml:2: jitter must be between 0 and 1, got 1.5"},
      {"target_label", "watch:\n  target_label: 1target\n", "bad.yml:2: invalid target_label"},
      {"reserved target_label", "watch:\n  target_label: __address__\n",
       "bad.yml:2: invalid target_label"},
      {"duplicate label_keys", "modules:\n  default:\n    label_keys: [route, route]\n",
       "bad.yml:3: label key 'route' gives the label name 'route' of another key"},
      {"label_keys alike once sanitized", "modules:\n  default:\n    label_keys: [a-b, a.b]\n",
       "bad.yml:3: label key 'a.b' gives the label name 'a_b' of another key"},
      {"label key job becomes pprof_job, like the key pprof_job",
       "modules:\n  default:\n    label_keys: [job, pprof_job]\n",
       "bad.yml:3: label key 'pprof_job' gives the label name 'pprof_job' of another key"},
      {"label key named like an exporter label",
       "modules:\n  default:\n    label_keys: [category]\n",
       "bad.yml:3: label key 'category' gives the label name 'category', which the exporter's "
       "series already carry"},
      {"label key named like the watch target label",
       "modules:\n  default:\n    label_keys: [target]\n"
       "watch:\n  static_configs:\n    - targets: [a:1]\n",
       "label key 'target' of module 'default' gives the label name of watch target_label"},
      {"target_label named like an exporter label", "watch:\n  target_label: stack_id\n",
       "bad.yml:2: invalid target_label"},
      {"too many static labels",
       "watch:\n  static_configs:\n    - targets: [a:1]\n      labels: {" + [] {
         std::string labels;
         for (int i = 0; i < 65; ++i) labels += (i ? ", l" : "l") + std::to_string(i) + ": x";
         return labels;
       }() + "}\n",
       "more than 64 labels"},
      {"static labels too long in all",
       "watch:\n  static_configs:\n    - targets: [a:1]\n      labels: {a: " +
           std::string(1000, 'x') + ", b: " + std::string(1000, 'x') + ", c: " +
           std::string(1000, 'x') + ", d: " + std::string(1000, 'x') + ", e: " +
           std::string(1000, 'x') + "}\n",
       "labels longer than 4096 bytes in all"},
      // The prober's own cap: a longer watch target would pass the check and fail every poll.
      {"static target longer than a probe target",
       "watch:\n  static_configs:\n    - targets: ['" + std::string(1025, 'a') + "']\n",
       "target longer than 1024 bytes"},
      {"static label named like an exporter label",
       "watch:\n  static_configs:\n    - targets: [a:1]\n      labels: {function: x}\n",
       "label name 'function' is a label of the exporter's own series"},
      {"empty label key", "modules:\n  default:\n    label_keys: ['']\n",
       "bad.yml:3: label key '' must be 1 to 64 bytes"},
      {"unknown static module", "watch:\n  static_configs:\n    - targets: [a:1]\n      module: nope\n",
       "bad.yml:4: unknown module 'nope'"},
      {"unknown file_sd module", "watch:\n  file_sd_configs:\n    - files: [x.json]\n      module: nope\n",
       "bad.yml:4: unknown module 'nope'"},
      {"static without targets", "watch:\n  static_configs:\n    - labels: {a: b}\n",
       "bad.yml:3: a static_configs entry needs targets"},
      // A byte that is not UTF-8 in the file: yaml-cpp passes it on; Prometheus would refuse
      // the whole scrape.
      {"static label value not UTF-8",
       "watch:\n  static_configs:\n    - targets: [a:1]\n      labels: {a: \"bad\xff\"}\n",
       "value of label 'a' is not valid UTF-8"},
      {"bad static label", "watch:\n  static_configs:\n    - targets: [a:1]\n      labels: {a-b: c}\n",
       "bad.yml:4: invalid label name 'a-b'"},
      {"bad cidr", "probe:\n  allowed_targets:\n    cidrs: ['10.0.0.0/33']\n",
       "bad.yml:3: invalid CIDR '10.0.0.0/33'"},
      {"bad resolved cidr", "probe:\n  allowed_targets:\n    resolved_cidrs: ['10.0.0/8']\n",
       "bad.yml:3: invalid CIDR '10.0.0/8'"},
      {"ip in hosts", "probe:\n  allowed_targets:\n    hosts: ['10.1.2.3']\n",
       "bad.yml:3: host '10.1.2.3' is an IP address"},
      {"bad host glob", "probe:\n  allowed_targets:\n    hosts: ['a b']\n",
       "bad.yml:3: invalid host pattern"},
      {"bad rule", "modules:\n  default:\n    rules:\n      - name: x\n        category: nope\n        state: y\n",
       "bad.yml:5: unknown category 'nope'"},
      {"category in ignore", "modules:\n  default:\n    ignore:\n      - category: runtime\n",
       "bad.yml:4: unknown key 'category' in rule"},
      {"bad header", "modules:\n  default:\n    headers: {\"X-Foo\": \"a\\r\\nInjected: 1\"}\n",
       "bad.yml:3: header 'X-Foo' has control characters"},
      {"authorization with bearer",
       "modules:\n  default:\n    bearer_token_file: /t\n    headers: {authorization: x}\n",
       "bad.yml:4: module 'default': an Authorization header conflicts"},
      {"bearer and basic", "modules:\n  m:\n    bearer_token_file: /t\n    basic_auth: {username: u}\n",
       "bad.yml:2: module 'm': at most one of basic_auth and bearer_token_file"},
      {"cert without key", "modules:\n  m:\n    tls_config: {cert_file: /c}\n",
       "bad.yml:3: module 'm' tls_config: cert_file and key_file go together"},
      {"timeout over interval", "watch:\n  interval: 10s\n  timeout: 20s\n",
       "bad.yml:3: watch timeout 20s exceeds the interval 10s"},
      {"bad module name", "modules:\n  'a b': {}\n", "bad.yml:2: invalid module name 'a b'"},
      {"module not a mapping", "modules:\n  m: [1]\n", "bad.yml:2: module 'm' must be a mapping"},
      {"yaml syntax error", "modules:\n  default:\n    top_k: [1\n", "bad.yml:"},
      {"top level list", "- a\n- b\n", "bad.yml:1: the config must be a mapping"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto parsed = ParseConfig(c.yaml, "bad.yml");
    REQUIRE_FALSE(parsed.ok());
    CAPTURE(parsed.status().message());
    CHECK(parsed.status().message().find(c.want) != std::string::npos);
  }
}

TEST_CASE("allowlist matching for globs and IPv4 and IPv6 CIDRs") {
  TargetAllowlist allow;
  allow.allow_any = false;
  allow.host_globs = {"localhost", "*.svc.cluster.local", "app-?.example.com"};
  allow.cidrs = {"127.0.0.0/8", "10.0.0.0/8", "192.168.1.7", "::1/128", "fd00::/8",
                 "2001:db8::/33"};
  struct Case {
    const char* host;
    bool want;
  };
  const Case cases[] = {
      {"localhost", true},
      {"LOCALHOST", true},
      {"localhost.evil.com", false},
      {"api.svc.cluster.local", true},
      {"a.b.svc.cluster.local", true},  // '*' spans dots
      {"API.Default.SVC.Cluster.Local", true},
      {"svc.cluster.local", false},
      {"evil.svc.cluster.local.com", false},
      {"app-1.example.com", true},
      {"app-12.example.com", false},
      {"example.com", false},
      {"", false},
      {"127.0.0.1", true},
      {"127.255.255.254", true},
      {"128.0.0.1", false},
      {"10.200.3.4", true},
      {"11.0.0.1", false},
      {"192.168.1.7", true},
      {"192.168.1.8", false},
      {"127.1", true},        // short form, reaches 127.0.0.1
      {"0x0a000001", true},   // hex form of 10.0.0.1
      {"2130706433", true},   // decimal form of 127.0.0.1
      {"3232235777", false},  // 192.168.1.1
      {"::1", true},
      {"[::1]", true},
      {"::2", false},
      {"fd12:3456::1", true},
      {"fe80::1", false},
      {"2001:db8::1", true},
      {"2001:db8:7fff::1", true},
      {"2001:db8:8000::1", false},
      {"::ffff:127.0.0.1", true},  // IPv4-mapped
      {"::ffff:8.8.8.8", false},
      {"8.8.8.8", false},
      {"local host", false},
      {"localhost\n", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.host);
    CHECK(allow.Allows(c.host) == c.want);
  }

  TargetAllowlist names_only;
  names_only.allow_any = false;
  names_only.host_globs = {"*"};
  CHECK(names_only.Allows("anything.example"));
  CHECK_FALSE(names_only.Allows("127.0.0.1"));  // addresses only match CIDRs
  CHECK_FALSE(names_only.Allows("::1"));

  TargetAllowlist everything4;
  everything4.allow_any = false;
  everything4.cidrs = {"0.0.0.0/0"};
  CHECK(everything4.Allows("1.2.3.4"));
  CHECK_FALSE(everything4.Allows("::1"));
  CHECK_FALSE(everything4.Allows("localhost"));  // a name never matches a CIDR
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gx-config-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST_CASE("file_sd reads JSON and YAML and skips bad files") {
  TempDir dir;
  dir.Write("a.json", R"(  [
    {"targets": ["10.0.0.1:6060", "10.0.0.2:6060"], "labels": {"service": "api"}},
    {"targets": ["10.0.0.3:6060"]}
  ])");
  dir.Write("b.yml", "- targets: ['web:8080']\n  labels: {team: web}\n");
  dir.Write("empty.yml", "");
  dir.Write("bad.json", "[{\"targets\": [\"x:1\"]");
  dir.Write("badkey.json", R"([{"targets": ["x:1"], "label": {}}])");
  dir.Write("badlabel.yml", "- targets: ['x:1']\n  labels: {'bad-name': v}\n");
  dir.Write("notlist.yml", "targets: ['x:1']\n");
  dir.Write("numtarget.json", R"([{"targets": [1]}])");
  dir.Write("big.yml", "# " + std::string(2u << 20, 'x') + "\n");

  FileSdConfig sd;
  sd.files = {dir.path() + "/*.json", dir.path() + "/*.yml", dir.path() + "/missing-*.json"};
  sd.module = "m";
  std::vector<std::string> errors;
  auto targets = ResolveFileSd(sd, &errors);

  REQUIRE(targets.size() == 4);
  CHECK(targets[0].address == "10.0.0.1:6060");
  CHECK(targets[0].module == "m");
  CHECK(targets[0].labels.at("service") == "api");
  CHECK(targets[2].address == "10.0.0.3:6060");
  CHECK(targets[2].labels.empty());
  CHECK(targets[3].address == "web:8080");
  CHECK(targets[3].labels.at("team") == "web");

  std::string all;
  for (const auto& e : errors) all += e + "\n";
  CAPTURE(all);
  CHECK(errors.size() == 6);
  CHECK(all.find("bad.json: invalid JSON") != std::string::npos);
  CHECK(all.find("badkey.json: group 1: unknown key 'label'") != std::string::npos);
  CHECK(all.find("badlabel.yml:2: invalid label name 'bad-name'") != std::string::npos);
  CHECK(all.find("notlist.yml:1: expected a list of target groups") != std::string::npos);
  CHECK(all.find("numtarget.json: group 1: targets must be a list of strings") !=
        std::string::npos);
  CHECK(all.find("big.yml: larger than 1048576 bytes") != std::string::npos);
}

TEST_CASE("file_sd caps the total number of targets") {
  TempDir dir;
  std::string many = "[{\"targets\": [";
  for (int i = 0; i < 6000; ++i) many += (i ? ",\"h" : "\"h") + std::to_string(i) + ":1\"";
  many += "]}]";
  dir.Write("1.json", many);
  dir.Write("2.json", many);  // would pass 10,000: skipped whole
  dir.Write("3.yml", "- targets: ['last:1']\n");
  FileSdConfig sd;
  sd.files = {dir.path() + "/*"};
  std::vector<std::string> errors;
  auto targets = ResolveFileSd(sd, &errors);
  CHECK(targets.size() == 6001);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("2.json: more than 10000 targets") != std::string::npos);
}

TEST_CASE("a file_sd file that breaks keeps the targets it last gave; a deleted one does not") {
  TempDir dir;
  dir.Write("a.json", R"([{"targets": ["a1:1", "a2:1"], "labels": {"service": "api"}}])");
  dir.Write("b.yml", "- targets: ['b1:1']\n");
  FileSdConfig sd;
  sd.files = {dir.path() + "/*"};
  sd.module = "m";
  FileSdMemory memory;
  std::vector<std::string> errors;
  auto addresses = [](const std::vector<WatchTarget>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) out.push_back(t.address + "/" + t.module);
    return out;
  };
  CHECK(addresses(ResolveFileSd(sd, &errors, &memory)) ==
        std::vector<std::string>{"a1:1/m", "a2:1/m", "b1:1/m"});
  CHECK(errors.empty());

  // a.json caught half written: its two targets stay, with their labels, and it is reported.
  dir.Write("a.json", R"([{"targets": ["a1:1", "a2)");
  sd.module = "n";  // a reload changed the module: the kept targets follow it
  auto kept = ResolveFileSd(sd, &errors, &memory);
  CHECK(addresses(kept) == std::vector<std::string>{"a1:1/n", "a2:1/n", "b1:1/n"});
  CHECK(kept[0].labels.at("service") == "api");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("a.json: invalid JSON") != std::string::npos);
  CHECK(errors[0].find("keeping the 2 targets it last gave") != std::string::npos);
  // Still broken on the next refresh: still kept.
  errors.clear();
  CHECK(ResolveFileSd(sd, &errors, &memory).size() == 3);

  // Fixed with other targets: the new ones.
  dir.Write("a.json", R"([{"targets": ["a3:1"]}])");
  errors.clear();
  CHECK(addresses(ResolveFileSd(sd, &errors, &memory)) ==
        std::vector<std::string>{"a3:1/n", "b1:1/n"});
  CHECK(errors.empty());

  // Deleted: its targets go (as in Prometheus); so does what was kept of it.
  std::remove((dir.path() + "/a.json").c_str());
  CHECK(addresses(ResolveFileSd(sd, &errors, &memory)) == std::vector<std::string>{"b1:1/n"});
  dir.Write("a.json", "[");
  errors.clear();
  CHECK(addresses(ResolveFileSd(sd, &errors, &memory)) == std::vector<std::string>{"b1:1/n"});
  CHECK(errors.size() == 1);

  // Without a memory, as before: a bad file gives nothing.
  errors.clear();
  CHECK(ResolveFileSd(sd, &errors).size() == 1);
}

TEST_CASE("LoadConfigFile reads a file and reports missing ones") {
  TempDir dir;
  std::string path = dir.Write("c.yml", "watch:\n  concurrency: 9\n  bogus: 1\n");
  auto bad = LoadConfigFile(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find(path + ":3: unknown key 'bogus'") != std::string::npos);

  path = dir.Write("d.yml", "watch:\n  concurrency: 9\n");
  auto good = LoadConfigFile(path);
  REQUIRE_MESSAGE(good.ok(), good.status().message());
  CHECK(good.value()->watch.concurrency == 9);
  CHECK(good.value()->source == path);

  auto missing = LoadConfigFile(dir.path() + "/nope.yml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("nope.yml") != std::string::npos);
}

}  // namespace
}  // namespace gx
