#include "config/web_config.h"

#include <crypt.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "common/files.h"
#include "common/limits.h"
#include "config/yaml_reader.h"

namespace gx {
namespace {

// "$2a$", "$2b$" or "$2y$", a two-digit cost 04..31, then 53 characters of bcrypt's base64.
bool IsBcryptHash(const std::string& h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
  int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (std::size_t i = 7; i < h.size(); ++i) {
    char c = h[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}


Result<WebConfig> Parse(const std::string& yaml_text, const std::string& source) {
  WebConfig config;
  if (yaml_text.size() > kMaxWebConfigBytes) {
    return Status::Error(source + ": larger than " + std::to_string(kMaxWebConfigBytes) +
                         " bytes");
  }
  const YamlReader y(source);
  try {
    YAML::Node doc = YAML::Load(yaml_text);
    if (doc.IsDefined() && !doc.IsNull() && !doc.IsMap()) {
      return y.Error(doc, "the web config must be a mapping");
    }
    YAML::Node tls_key;
    bool has_tls = false;
    Status st = y.ForEachEntry(
        doc, doc, "the web config", {"tls_server_config", "basic_auth_users"},
        [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (key == "tls_server_config") {
            has_tls = true;
            tls_key = k;
            return y.ForEachEntry(
                v, k, "tls_server_config",
                {"cert_file", "key_file", "client_ca_file", "client_auth_type"},
                [&](const std::string& name, const YAML::Node& tk,
                    const YAML::Node& tv) -> Status {
                  if (!tv.IsScalar() || tv.Scalar().empty()) {
                    return y.Error(tk, name + " must be a non-empty string");
                  }
                  const std::string& value = tv.Scalar();
                  if (name == "cert_file") config.tls_cert_file = value;
                  if (name == "key_file") config.tls_key_file = value;
                  if (name == "client_ca_file") config.tls_client_ca_file = value;
                  if (name == "client_auth_type") {
                    if (value != "NoClientCert" && value != "RequireAndVerifyClientCert") {
                      return y.Error(tk,
                                     "client_auth_type must be NoClientCert or "
                                     "RequireAndVerifyClientCert, got '" + value + "'");
                    }
                    config.tls_client_auth_type = value;
                  }
                  return Status::Ok();
                });
          }
          // basic_auth_users: user -> bcrypt hash.
          if (!v.IsNull() && !v.IsMap()) {
            return y.Error(k, "basic_auth_users must map user names to bcrypt hashes");
          }
          return y.ForEachEntry(
              v, k, "basic_auth_users", {},
              [&](const std::string& user, const YAML::Node& uk, const YAML::Node& uv) -> Status {
                if (user.empty() || user.size() > kMaxUserBytes ||
                    user.find(':') != std::string::npos) {
                  return y.Error(uk, "invalid user name '" + user + "'");
                }
                if (!uv.IsScalar() || !IsBcryptHash(uv.Scalar())) {
                  return y.Error(
                      uk, "the password of '" + user + "' must be a bcrypt hash ($2b$...)");
                }
                if (config.basic_auth_users.size() >= kMaxUsers) {
                  return y.Error(uk, "more than " + std::to_string(kMaxUsers) + " users");
                }
                config.basic_auth_users.emplace(user, uv.Scalar());
                return Status::Ok();
              });
        });
    if (!st.ok()) return st;
    if (has_tls) {
      if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
        return y.Error(tls_key, "tls_server_config needs cert_file and key_file");
      }
      if (config.tls_client_auth_type == "RequireAndVerifyClientCert" &&
          config.tls_client_ca_file.empty()) {
        return y.Error(tls_key,
                       "client_auth_type RequireAndVerifyClientCert needs client_ca_file");
      }
      // As exporter-toolkit: a CA without a policy is a mistake. And the server verifies
      // client certificates whenever it is given a CA, so no other policy could be honoured.
      if (!config.tls_client_ca_file.empty() &&
          config.tls_client_auth_type != "RequireAndVerifyClientCert") {
        return y.Error(tls_key,
                       "client_ca_file needs client_auth_type RequireAndVerifyClientCert "
                       "(the only client certificate policy supported)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::Error(YamlErrorMessage(source, e));
  }
  return config;
}

// Strict standard base64 (RFC 4648 §4); padding optional. Bounded by the caller.
std::optional<std::string> Base64Decode(std::string_view in) {
  int padding = 0;
  while (!in.empty() && in.back() == '=') {
    in.remove_suffix(1);
    if (++padding > 2) return std::nullopt;
  }
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  std::size_t n = a.size() > b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// True if crypt(3) of password with hash's salt and cost reproduces hash.
bool VerifyBcrypt(const std::string& password, const std::string& hash) {
  // crypt_data is ~32 KiB; value-initialisation zeroes it, as crypt_r requires.
  auto data = std::make_unique<struct crypt_data>();
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  return ConstantTimeEquals(out, hash);
}

// Checked against when the user is unknown, so that unknown users cost as much as known ones.
const std::string& DummyHash() {
  static const std::string hash = [] {
    auto data = std::make_unique<struct crypt_data>();
    const char* out = crypt_r("not-a-password", "$2b$10$......................", data.get());
    return std::string(out != nullptr ? out : "");
  }();
  return hash;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool WebConfig::Authorize(const std::string& authorization_header) const {
  if (basic_auth_users.empty()) return true;
  std::string_view h = authorization_header;
  if (h.size() > kMaxAuthorizationBytes) return false;
  if (!StartsWithIgnoreCase(h, "basic ")) return false;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h.empty()) return false;
  auto decoded = Base64Decode(h);
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const std::string user = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);
  // crypt(3) takes a C string: a NUL would cut the password short.
  if (password.find('\0') != std::string::npos) return false;
  auto it = basic_auth_users.find(user);
  const bool known = it != basic_auth_users.end();
  const bool match = VerifyBcrypt(password, known ? it->second : DummyHash());
  return known && match;
}

Result<std::shared_ptr<const WebConfig>> ParseWebConfig(const std::string& yaml_text,
                                                        const std::string& source) {
  auto parsed = Parse(yaml_text, source.empty() ? "<web config>" : source);
  if (!parsed.ok()) return parsed.status();
  return std::shared_ptr<const WebConfig>(
      std::make_shared<WebConfig>(std::move(parsed.value())));
}

Result<std::shared_ptr<const WebConfig>> LoadWebConfigFile(const std::string& path) {
  std::string text;
  Status st = ReadBounded(path, kMaxWebConfigBytes, &text);
  if (!st.ok()) return st;
  auto parsed = Parse(text, path);
  if (!parsed.ok()) return parsed.status();
  WebConfig config = std::move(parsed.value());
  // As in the exporter-toolkit, relative file names are relative to the config file.
  std::string dir;
  auto slash = path.rfind('/');
  if (slash != std::string::npos) dir = path.substr(0, slash + 1);
  for (std::string* file :
       {&config.tls_cert_file, &config.tls_key_file, &config.tls_client_ca_file}) {
    if (!file->empty() && (*file)[0] != '/') *file = dir + *file;
  }
  return std::shared_ptr<const WebConfig>(std::make_shared<WebConfig>(std::move(config)));
}

}  // namespace gx
