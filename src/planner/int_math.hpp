// Integer helpers the planner's search needs and that src/plan/plan.hpp does not export. ceil_div and
// floor_div mirror the private ones at the top of src/plan/plan.cpp, and mul_mod's 128-bit product mirrors
// plan.cpp's private `Wide`; floor_mod and inverse_mod are the planner's own. They belong with the other
// integer helpers (core/); once those are exported, this file goes.
#pragma once

#include <cstdint>
#include <tuple>
#include <utility>

namespace c1r::planner_detail {

// Rounding divisions for b > 0 (as plan.cpp's), and the remainder that goes with floor_div.
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

// Inverse of a modulo m (gcd(a, m) = 1, m > 1).
inline int64_t inverse_mod(int64_t a, int64_t m) {
    int64_t old_r = a, r = m, old_s = 1, s = 0;
    while (r != 0) {
        int64_t q = old_r / r;
        std::tie(old_r, r) = std::pair{r, old_r - q * r};
        std::tie(old_s, s) = std::pair{s, old_s - q * s};
    }
    return floor_mod(old_s, m);
}

// a * b mod m for 0 <= a, b < m: the product of two values below 2^63 is taken in 128 bits and reduced before
// it narrows.
inline int64_t mul_mod(int64_t a, int64_t b, int64_t m) {
    __extension__ using Wide = __int128;
    return static_cast<int64_t>(static_cast<Wide>(a) * b % m);
}

}  // namespace c1r::planner_detail
