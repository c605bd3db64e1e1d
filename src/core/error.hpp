// The one exception type of the tool: a kind that maps to the exit code, a message and a JSON pointer.
#pragma once

#include <stdexcept>
#include <string>

namespace c1r {

enum class ErrorKind {
    usage,    // bad flags or arguments (exit 2)
    config,   // an invalid config (exit 2)
    input,    // an unreadable or malformed input file (exit 2)
    runtime,  // anything else: oneDNN failures, --verify over tolerance (exit 1)
};

// The one place a located message is composed: "source: place: message", leaving out an empty source or
// place. The place is a JSON pointer, an HDF5 path, a zip entry, "line 3, column 2": whatever finds the spot.
inline std::string located(const std::string& source, const std::string& place, const std::string& message) {
    std::string out = source.empty() ? "" : source + ": ";
    if (!place.empty()) out += place + ": ";
    return out + message;
}

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message, std::string pointer = {})
        : std::runtime_error(message), kind_(kind), pointer_(std::move(pointer)) {}

    // An error at a place in a file: located(source, place, message); a JSON pointer place is also kept as
    // pointer() for callers that report it apart.
    static Error at(ErrorKind kind, const std::string& source, const std::string& place, const std::string& message,
                    bool place_is_pointer = true) {
        return Error(kind, located(source, place, message), place_is_pointer ? place : std::string());
    }

    ErrorKind kind() const { return kind_; }
    // JSON pointer into the config that the error is about; empty when none.
    const std::string& pointer() const { return pointer_; }

private:
    ErrorKind kind_;
    std::string pointer_;
};

inline int exit_code(ErrorKind kind) { return kind == ErrorKind::runtime ? 1 : 2; }

// A message as one printable line: control characters from a file (newlines in keys, terminal escapes) are
// shown escaped, never sent raw to a terminal.
inline std::string one_line(const std::string& message) {
    static const char* const kHex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : message) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
        else out += static_cast<char>(c);
    }
    return out;
}

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace c1r
