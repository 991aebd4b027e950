// The web config file (--web.config.file), in the Prometheus exporter-toolkit format:
// tls_server_config (cert_file, key_file, client_ca_file, client_auth_type) and basic_auth_users
// (user: bcrypt hash). Immutable once loaded; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"

namespace gx {

struct WebConfig {
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string tls_client_auth_type;  // "" / "NoClientCert" / "RequireAndVerifyClientCert"
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash

  bool tls_enabled() const { return !tls_cert_file.empty(); }
  // Checks an "Authorization: Basic ..." header value. True when no users are configured.
  bool Authorize(const std::string& authorization_header) const;
};

Result<std::shared_ptr<const WebConfig>> LoadWebConfigFile(const std::string& path);
Result<std::shared_ptr<const WebConfig>> ParseWebConfig(const std::string& yaml_text,
                                                        const std::string& source);

}  // namespace gx
