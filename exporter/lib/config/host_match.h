// Whether a probe target's host may be probed: IP literals against CIDR ranges, names against
// case-insensitive globs (config's probe.allowed_targets). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

namespace gx {

// An IP address in network byte order: 4 bytes for IPv4, 16 for IPv6.
struct IpAddress {
  int family = 0;
  unsigned char bytes[16] = {};
};
// IPv6 literals, and IPv4 in every form the resolver would connect to ("127.1" too).
std::optional<IpAddress> ParseIp(const std::string& text);

// An address range: "10.0.0.0/8", "::1/128"; a bare address is a single host.
struct Cidr {
  IpAddress base;
  int prefix = 0;
};
std::optional<Cidr> ParseCidr(const std::string& text);
bool CidrContains(const Cidr& cidr, const IpAddress& ip);

// Shell-style glob, case-insensitive: '*' any run of characters (dots too), '?' one.
bool GlobMatch(const std::string& pattern, const std::string& text);
// DNS name characters plus the two wildcards, bounded.
bool IsHostGlob(const std::string& s);

}  // namespace gx
