// Structured logs in logfmt or JSON on stderr, with a level filter. Thread-safe.
#pragma once

#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace gx {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

class Logger {
 public:
  using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  static bool ParseLevel(std::string_view text, LogLevel* out);
  void Configure(LogLevel level, bool json);
  void Log(LogLevel level, std::string_view msg, Fields fields = {});
  void Debug(std::string_view msg, Fields f = {}) { Log(LogLevel::kDebug, msg, f); }
  void Info(std::string_view msg, Fields f = {}) { Log(LogLevel::kInfo, msg, f); }
  void Warn(std::string_view msg, Fields f = {}) { Log(LogLevel::kWarn, msg, f); }
  void Error(std::string_view msg, Fields f = {}) { Log(LogLevel::kError, msg, f); }

 private:
  std::mutex mu_;
  LogLevel level_ = LogLevel::kInfo;  // GUARDED_BY(mu_)
  bool json_ = false;                 // GUARDED_BY(mu_)
};

Logger& Log();  // the process-wide logger

}  // namespace gx
