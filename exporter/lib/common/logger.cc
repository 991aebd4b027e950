#include "common/logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace gx {
namespace {

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

void AppendQuoted(std::string* out, std::string_view v) {
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendLogfmtValue(std::string* out, std::string_view v) {
  bool plain = !v.empty();
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      plain = false;
    }
  }
  if (plain) {
    out->append(v);
  } else {
    AppendQuoted(out, v);
  }
}

}  // namespace

bool Logger::ParseLevel(std::string_view text, LogLevel* out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void Logger::Configure(LogLevel level, bool json) {
  std::lock_guard<std::mutex> lock(mu_);
  level_ = level;
  json_ = json;
}

void Logger::Log(LogLevel level, std::string_view msg, Fields fields) {
  std::lock_guard<std::mutex> lock(mu_);
  if (level < level_) return;
  std::string line;
  if (json_) {
    line = "{\"ts\":";
    AppendQuoted(&line, Timestamp());
    line += ",\"level\":";
    AppendQuoted(&line, LevelName(level));
    line += ",\"msg\":";
    AppendQuoted(&line, msg);
    for (const auto& [k, v] : fields) {
      line += ",";
      AppendQuoted(&line, k);
      line += ":";
      AppendQuoted(&line, v);
    }
    line += "}\n";
  } else {
    line = "ts=" + Timestamp() + " level=" + LevelName(level) + " msg=";
    AppendLogfmtValue(&line, msg);
    for (const auto& [k, v] : fields) {
      line += " ";
      line.append(k);
      line += "=";
      AppendLogfmtValue(&line, v);
    }
    line += "\n";
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

Logger& Log() {
  static Logger logger;
  return logger;
}

}  // namespace gx
