// Flag value checks as CLI11 validators (see flags.hpp).
#include "cli/flags.hpp"

#include <cstdint>
#include <limits>

namespace c1r {

CLI::Validator integer() {
    return CLI::Validator(
        [](std::string& input) {
            int64_t value = 0;
            return CLI::detail::lexical_cast(input, value) ? std::string() : input + " is not an integer";
        },
        "");
}

CLI::Validator threads_value(const std::string& flag) {
    return CLI::Validator(
        [flag](std::string& input) {
            if (input == "auto") {
                input = "0";
                return std::string();
            }
            try {
                size_t used = 0;
                const long threads = std::stol(input, &used);
                if (used == input.size() && threads >= 1 && threads <= 4096) {
                    input = std::to_string(threads);  // CLI11 would read "010" as octal
                    return std::string();
                }
            } catch (const std::exception&) {
            }
            throw FlagError(flag, input, "expected auto or a count from 1 to 4096");
        },
        "");
}

CLI::Validator size_value(const std::string& flag) {
    const CLI::AsSizeValue size(false);  // K = 1024, as in 8G and 512M
    return CLI::Validator(
        [size, flag](std::string& input) {
            std::string bytes = input;
            std::string problem;
            try {
                problem = size(bytes);
            } catch (const CLI::ValidationError& e) {
                problem = e.what();
            }
            uint64_t value = 0;
            // Zero bytes would read as "no limit"; "-5" reads as 2^64 - 5, refused as too large.
            if (problem.empty() && CLI::detail::lexical_cast(bytes, value) && value >= 1 &&
                value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                input = bytes;
                return std::string();
            }
            throw FlagError(flag, input, "expected a positive size, e.g. 8G, 512M or 1000000");
        },
        "");
}

}  // namespace c1r
