#include "config/web_config.h"

#include <crypt.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace gx {
namespace {

namespace fs = std::filesystem;

// A bcrypt hash made now with the lowest cost, so the tests stay fast.
std::string MakeBcrypt(const std::string& password, const char* prefix = "$2b$") {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn(prefix, 4, nullptr, 0, setting, sizeof(setting)) != nullptr);
  auto data = std::make_unique<struct crypt_data>();
  const char* out = crypt_r(password.c_str(), setting, data.get());
  REQUIRE(out != nullptr);
  REQUIRE(out[0] != '*');
  return out;
}

std::string Base64(const std::string& in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Basic(const std::string& user_pass) { return "Basic " + Base64(user_pass); }

TEST_CASE("web config with TLS and users parses") {
  const std::string hash = MakeBcrypt("secret");
  const std::string yaml = "tls_server_config:\n"
                           "  cert_file: /etc/x/cert.pem\n"
                           "  key_file: /etc/x/key.pem\n"
                           "  client_ca_file: /etc/x/ca.pem\n"
                           "  client_auth_type: RequireAndVerifyClientCert\n"
                           "basic_auth_users:\n"
                           "  alice: " + hash + "\n";
  auto parsed = ParseWebConfig(yaml, "web.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const WebConfig& c = *parsed.value();
  CHECK(c.tls_enabled());
  CHECK(c.tls_cert_file == "/etc/x/cert.pem");
  CHECK(c.tls_key_file == "/etc/x/key.pem");
  CHECK(c.tls_client_ca_file == "/etc/x/ca.pem");
  CHECK(c.tls_client_auth_type == "RequireAndVerifyClientCert");
  REQUIRE(c.basic_auth_users.size() == 1);
  CHECK(c.basic_auth_users.at("alice") == hash);
}

TEST_CASE("an empty web config has no TLS and no auth") {
  for (const char* text : {"", "basic_auth_users:\n", "basic_auth_users: {}\n"}) {
    CAPTURE(text);
    auto parsed = ParseWebConfig(text, "web.yml");
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
    CHECK_FALSE(parsed.value()->tls_enabled());
    CHECK(parsed.value()->Authorize(""));
    CHECK(parsed.value()->Authorize("Basic garbage"));
  }
}

TEST_CASE("bad web configs are rejected with the line") {
  const std::string hash = MakeBcrypt("pw");
  struct Case {
    const char* name;
    std::string yaml;
    const char* want;
  };
  const Case cases[] = {
      {"unknown top-level key", "tls_server_config: {cert_file: c, key_file: k}\nhttp_server_config: {}\n",
       "web.yml:2: unknown key 'http_server_config'"},
      {"unknown tls key", "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n",
       "web.yml:4: unknown key 'min_version' in tls_server_config"},
      {"cert without key", "tls_server_config:\n  cert_file: c\n", "web.yml:1: tls_server_config needs cert_file and key_file"},
      {"bad client_auth_type", "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Maybe\n",
       "web.yml:4: client_auth_type must be"},
      {"client CA without a policy",
       "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n",
       "client_ca_file needs client_auth_type RequireAndVerifyClientCert"},
      {"client CA with NoClientCert",
       "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n"
       "  client_auth_type: NoClientCert\n",
       "client_ca_file needs client_auth_type RequireAndVerifyClientCert"},
      {"verify without ca",
       "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n",
       "needs client_ca_file"},
      {"plain password", "basic_auth_users:\n  bob: hunter2\n",
       "web.yml:2: the password of 'bob' must be a bcrypt hash"},
      {"user with colon", "basic_auth_users:\n  'a:b': " + hash + "\n", "web.yml:2: invalid user name 'a:b'"},
      {"duplicate user", "basic_auth_users:\n  a: " + hash + "\n  a: " + hash + "\n",
       "web.yml:3: duplicate key 'a'"},
      {"users as list", "basic_auth_users: [a]\n", "web.yml:1: basic_auth_users must map"},
      {"not a mapping", "- a\n", "web.yml:1: the web config must be a mapping"},
      {"syntax error", "tls_server_config: {cert_file: c\n", "web.yml:"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto parsed = ParseWebConfig(c.yaml, "web.yml");
    REQUIRE_FALSE(parsed.ok());
    CAPTURE(parsed.status().message());
    CHECK(parsed.status().message().find(c.want) != std::string::npos);
  }
}

TEST_CASE("Authorize checks basic auth against bcrypt hashes") {
  const std::string yaml = "basic_auth_users:\n"
                           "  alice: " + MakeBcrypt("s3cr3t") + "\n"
                           "  bob: " + MakeBcrypt("pa:ss word", "$2y$") + "\n"
                           "  carol: " + MakeBcrypt("", "$2a$") + "\n";
  auto parsed = ParseWebConfig(yaml, "web.yml");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const WebConfig& c = *parsed.value();

  struct Case {
    const char* name;
    std::string header;
    bool want;
  };
  const Case cases[] = {
      {"correct", Basic("alice:s3cr3t"), true},
      {"scheme case-insensitive", "basic " + Base64("alice:s3cr3t"), true},
      {"extra spaces", "Basic   " + Base64("alice:s3cr3t") + "  ", true},
      {"password with colon and space ($2y$)", Basic("bob:pa:ss word"), true},
      {"empty password ($2a$)", Basic("carol:"), true},
      {"wrong password", Basic("alice:s3cr3T"), false},
      {"password prefix", Basic("alice:s3cr3"), false},
      {"password with suffix", Basic("alice:s3cr3tX"), false},
      {"password with NUL", Basic(std::string("alice:s3cr3t\0x", 14)), false},
      {"unknown user", Basic("mallory:s3cr3t"), false},
      {"user case matters", Basic("Alice:s3cr3t"), false},
      {"no colon", Basic("alices3cr3t"), false},
      {"empty header", "", false},
      {"scheme only", "Basic", false},
      {"scheme and space", "Basic ", false},
      {"bearer", "Bearer " + Base64("alice:s3cr3t"), false},
      {"no space", "Basic" + Base64("alice:s3cr3t"), false},
      {"bad base64", "Basic !!!!", false},
      {"base64 with inner space", "Basic YWxp Y2U6czNjcjN0", false},
      {"truncated base64", "Basic " + Base64("alice:s3cr3t").substr(0, 5), false},
      {"too much padding", "Basic " + Base64("alice:s3cr3t") + "===", false},
      {"oversized", "Basic " + std::string(10000, 'A'), false},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.name);
    CHECK(c.Authorize(tc.header) == tc.want);
  }
}

TEST_CASE("LoadWebConfigFile resolves relative TLS files against the config directory") {
  std::string tmpl = (fs::temp_directory_path() / "gx-web-test-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  const fs::path file = dir / "web.yml";
  std::ofstream(file) << "tls_server_config:\n  cert_file: cert.pem\n  key_file: /abs/key.pem\n";
  auto loaded = LoadWebConfigFile(file.string());
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
  CHECK(loaded.value()->tls_cert_file == (dir / "cert.pem").string());
  CHECK(loaded.value()->tls_key_file == "/abs/key.pem");

  auto missing = LoadWebConfigFile((dir / "none.yml").string());
  CHECK_FALSE(missing.ok());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace gx
