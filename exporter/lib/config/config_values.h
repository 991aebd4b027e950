// Checks of values read from the config and file_sd files (names, targets, labels, headers)
// and small helpers their parsers share. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/status.h"

namespace gx {

bool IsModuleName(const std::string& s);  // letters, digits, '_', '-', '.'; bounded
bool IsHeaderName(const std::string& s);
bool IsHeaderValue(const std::string& s);
bool HasSpaceOrControl(const std::string& s);
char AsciiLower(char c);
bool EqualsIgnoreCase(const std::string& a, const std::string& b);  // ASCII only
std::string Checksum(const std::string& text);  // FNV-1a 64 in hex: tells reloads apart

// Turns a message into the Status to return, naming where the value was found.
using FailFn = std::function<Status(const std::string&)>;
Status CheckTargetLabels(const std::map<std::string, std::string>& labels, const FailFn& fail);
Status CheckTarget(const std::string& target, const FailFn& fail);

}  // namespace gx
