// Checks of values read from the config and file_sd files (names, targets, labels, headers)
// and small helpers their parsers share. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace gx {

bool IsModuleName(const std::string& s);  // letters, digits, '_', '-', '.'; bounded
bool IsHeaderName(const std::string& s);
bool IsHeaderValue(const std::string& s);
bool HasSpaceOrControl(const std::string& s);
char AsciiLower(char c);
bool EqualsIgnoreCase(const std::string& a, const std::string& b);  // ASCII only
// A byte size: "1048576", or a number with a unit as blackbox_exporter writes them, powers of
// 1024 either way: "512KB", "512KiB", "16MB", "16MiB", "1GB", "1GiB", "100B". Bounded; nullopt
// when malformed or above 2^40.
std::optional<int64_t> ParseByteSize(const std::string& text);
std::string Checksum(const std::string& text);  // FNV-1a 64 in hex: tells reloads apart

// Turns a message into the Status to return, naming where the value was found.
using FailFn = std::function<Status(const std::string&)>;
Status CheckTargetLabels(const std::map<std::string, std::string>& labels, const FailFn& fail);
Status CheckTarget(const std::string& target, const FailFn& fail);

}  // namespace gx
