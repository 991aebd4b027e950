// Bounded reads of small local files (configs, secrets, file_sd lists). Thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace gx {

// Reads a whole regular file of at most max_bytes into *out.
Status ReadBounded(const std::string& path, std::size_t max_bytes, std::string* out);

}  // namespace gx
