#include "config/host_match.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "common/limits.h"
#include "config/config_values.h"
#include "config/exporter_config.h"

namespace gx {
namespace {

bool PrefixMatches(const unsigned char* a, const unsigned char* b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

// Shell-style glob: '*' matches any run of characters (dots included), '?' one character.
// Case-insensitive. Greedy with single backtrack point: O(len(pattern) * len(text)).
bool GlobMatch(const std::string& pattern, const std::string& text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string::npos, star_t = 0;
  while (t < text.size()) {
    const bool same = p < pattern.size() &&
                      (pattern[p] == '?' || AsciiLower(pattern[p]) == AsciiLower(text[t]));
    if (same) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}


// IPv6 literals via inet_pton. IPv4 via inet_aton, which also takes the short and numeric
// forms ("127.1", "0x7f000001") that the resolver would connect to as addresses, so they
// cannot slip past the CIDR list as "names".
std::optional<IpAddress> ParseIp(const std::string& text) {
  if (text.empty() || HasSpaceOrControl(text)) return std::nullopt;
  IpAddress ip;
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  struct in_addr v4;
  if (inet_aton(text.c_str(), &v4) != 0) {
    ip.family = AF_INET;
    std::memcpy(ip.bytes, &v4.s_addr, 4);
    return ip;
  }
  return std::nullopt;
}


// "10.0.0.0/8", "::1/128"; a bare address means a single host. Host bits may be set
// (masked off, as Go's net.ParseCIDR does). The address part must be a canonical literal.
std::optional<Cidr> ParseCidr(const std::string& text) {
  if (text.empty() || text.size() > 64 || HasSpaceOrControl(text)) return std::nullopt;
  std::string addr = text;
  int prefix = -1;
  auto slash = text.find('/');
  if (slash != std::string::npos) {
    addr = text.substr(0, slash);
    std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
  }
  Cidr cidr;
  if (inet_pton(AF_INET6, addr.c_str(), cidr.base.bytes) == 1) {
    cidr.base.family = AF_INET6;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return std::nullopt;
  } else if (inet_pton(AF_INET, addr.c_str(), cidr.base.bytes) == 1) {
    cidr.base.family = AF_INET;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return std::nullopt;
  } else {
    return std::nullopt;
  }
  cidr.prefix = prefix;
  return cidr;
}


bool CidrContains(const Cidr& cidr, const IpAddress& ip) {
  if (cidr.base.family == ip.family) return PrefixMatches(cidr.base.bytes, ip.bytes, cidr.prefix);
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 host: match IPv4 ranges too.
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (cidr.base.family == AF_INET && ip.family == AF_INET6 &&
      std::memcmp(ip.bytes, kMapped, 12) == 0) {
    return PrefixMatches(cidr.base.bytes, ip.bytes + 12, cidr.prefix);
  }
  return false;
}

// Allowed characters of a host glob: DNS name characters plus the two wildcards.
bool IsHostGlob(const std::string& s) {
  if (s.empty() || s.size() > kMaxHostNameBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == '*' || c == '?';
    if (!ok) return false;
  }
  return true;
}

bool TargetAllowlist::Allows(const std::string& host) const {
  if (allow_any) return true;
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || h.size() > kMaxHostNameBytes || HasSpaceOrControl(h)) return false;
  if (auto ip = ParseIp(h)) {
    for (const auto& text : cidrs) {
      auto cidr = ParseCidr(text);
      if (cidr && CidrContains(*cidr, *ip)) return true;
    }
    return false;  // an address never matches a host pattern
  }
  for (const auto& glob : host_globs) {
    if (GlobMatch(glob, h)) return true;
  }
  return false;
}

}  // namespace gx
