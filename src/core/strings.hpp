// Small string tests shared by every folder.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace c1r {

inline bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }
inline bool ends_with(std::string_view text, std::string_view tail) {
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

// Untrusted text from a file (a header key, a CSV cell) for an error message: cut after `max` bytes ("..."),
// control bytes shown as \xNN. Bytes from 0x80 pass through (UTF-8 names stay readable) unless `ascii`.
inline std::string snippet(std::string_view text, bool ascii, size_t max = 40) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (i == max) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != 0x7f && (c < 0x80 || !ascii)) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    return out;
}

}  // namespace c1r
