// Checks and conversions of flag values, as CLI11 validators, shared by the run and plan subcommands.
//
// A bad value is refused while the command line is parsed, so every bad flag gets main's one-line shape:
// `conv1d-reshape: <message> (see --help)`, exit 2. CLI11's own checks word it "--flag: why"; the checks
// here that must show the value beside the flag ("--threads x: ...") throw FlagError instead.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

namespace c1r {

// A refused flag value, worded "--flag value: why".
class FlagError : public CLI::ParseError {
public:
    FlagError(const std::string& flag, const std::string& value, const std::string& why)
        : CLI::ParseError("FlagError", flag + " " + value + ": " + why, CLI::ExitCodes::ValidationError) {}
};

// A whole number (as CLI11 reads one); "1.5" is "not an integer". Put it before a CLI::Range, which would
// call 1.5 "not in range".
CLI::Validator integer();

// "auto" (becomes 0) or a thread count from 1 to 4096.
CLI::Validator threads_value(const std::string& flag);

// A size in bytes, CLI::AsSizeValue's way: 1000000, 512M, 8G, 8GiB, 2 kb (K, M, G, T, P, E: powers of 1024);
// at least one byte and at most 2^63 - 1. Becomes the number of bytes.
CLI::Validator size_value(const std::string& flag);

// Restricts an option to the given names, listed in --help as {a,b,c}, and converts each to its value.
template <typename T>
CLI::Option* choice(CLI::Option* option, const std::vector<std::pair<std::string, T>>& choices) {
    std::vector<std::string> names;
    for (const auto& [name, value] : choices) names.push_back(name);
    // transform() puts each validator in front of the others: IsMember runs first, on the name as given.
    return option->transform(CLI::Transformer(choices).description(""))->transform(CLI::IsMember(names));
}

}  // namespace c1r
