// Integer helpers for sizes read from users: checked products and sums, rounding divisions, 128-bit spans.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace c1r {

__extension__ using Wide = __int128;  // tap counts and index maps of 2^31-step inputs multiply past 64 bits

inline int64_t checked_mul(int64_t a, int64_t b) {
    int64_t out;
    if (__builtin_mul_overflow(a, b, &out))
        throw Error(ErrorKind::config, "size overflow: " + std::to_string(a) + " * " + std::to_string(b) +
                                           " does not fit in 64 bits");
    return out;
}

inline int64_t checked_add(int64_t a, int64_t b) {
    int64_t out;
    if (__builtin_add_overflow(a, b, &out))
        throw Error(ErrorKind::config, "size overflow: " + std::to_string(a) + " + " + std::to_string(b) +
                                           " does not fit in 64 bits");
    return out;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline Wide ceil_div_wide(Wide a, Wide b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
inline Wide floor_div_wide(Wide a, Wide b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace c1r
