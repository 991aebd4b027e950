#include "common/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace gx {

Status ReadBounded(const std::string& path, std::size_t max_bytes, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::Error(path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0) {
    int err = errno;
    std::fclose(f);
    return Status::Error(path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    std::fclose(f);
    return Status::Error(path + ": not a regular file");
  }
  std::string data;
  data.resize(max_bytes + 1);
  std::size_t n = std::fread(data.data(), 1, data.size(), f);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::Error(path + ": read error");
  if (n > max_bytes) {
    return Status::Error(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  data.resize(n);
  *out = std::move(data);
  return Status::Ok();
}

}  // namespace gx
