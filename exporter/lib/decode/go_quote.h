// Go string literal helpers for the label syntaxes of debug=1 ("%q") and debug=2 headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gx {

// Reads a double-quoted Go string literal starting at text[*pos] == '"'. On success returns
// the unescaped value and moves *pos past the closing quote. Handles \" \\ \n \r \t \a \b
// \f \v \xNN \NNN (octal) \uNNNN \UNNNNNNNN. Returns nullopt on malformed input.
std::optional<std::string> ReadGoQuoted(std::string_view text, std::size_t* pos);

}  // namespace gx
