// Peak-FLOPs probe: FMA (AVX-512, AVX2) and bf16 dot-product throughput on one thread and on all threads.
//
// Each kernel keeps enough independent accumulators to cover FMA latency x ports (4 cycles x 2 ports = 8 in flight;
// we use more), so the figure is the machine's throughput ceiling, the denominator of "% of peak".
// Kernels are compiled per ISA with target attributes, so the binary runs on any x86-64 and skips what is absent.
// Prints one JSON line.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr int kAvx512Accumulators = 16;  // of 32 zmm registers
constexpr int kAvx2Accumulators = 12;    // of 16 ymm registers, two hold the operands

// Stores one lane where the optimiser must assume it is read, so the loop stays. (Not _mm512_reduce_add_ps:
// GCC 12's header trips -Wuninitialized on it.)
__attribute__((target("avx512f"))) void keep(__m512 sum) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
}

// Returns flops done: iterations x accumulators x lanes x 2.
__attribute__((target("avx512f"))) double avx512_fma_kernel(int64_t iterations) {
    __m512 acc[kAvx512Accumulators];
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iterations; ++it) {
        // Fully unrolled, so the accumulators live in registers rather than in a stack array.
#pragma GCC unroll 16
        for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 sum = acc[0];
#pragma GCC unroll 16
    for (int i = 1; i < kAvx512Accumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
    keep(sum);
    return static_cast<double>(iterations) * kAvx512Accumulators * 16 * 2;
}

__attribute__((target("avx2,fma"))) double avx2_fma_kernel(int64_t iterations) {
    __m256 acc[kAvx2Accumulators];
#pragma GCC unroll 16
    for (int i = 0; i < kAvx2Accumulators; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < kAvx2Accumulators; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 sum = acc[0];
#pragma GCC unroll 16
    for (int i = 1; i < kAvx2Accumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
    return static_cast<double>(iterations) * kAvx2Accumulators * 8 * 2;
}

// vdpbf16ps: 16 lanes, each a sum of two bf16 products into f32 = 4 flops per lane.
__attribute__((target("avx512f,avx512bf16"))) double bf16_dot_kernel(int64_t iterations) {
    __m512 acc[kAvx512Accumulators];
#pragma GCC unroll 16
    // Distinct starting values: identical accumulators would be merged into one by the optimiser.
    for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);
    for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < kAvx512Accumulators; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    }
    __m512 sum = acc[0];
#pragma GCC unroll 16
    for (int i = 1; i < kAvx512Accumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
    keep(sum);
    return static_cast<double>(iterations) * kAvx512Accumulators * 16 * 4;
}

// Peak GFLOP/s of `threads` threads running `kernel` at once: each thread times many short rounds of its own
// for about `budget_s` and keeps its best; the peak is the sum of the bests. Best, short and per thread: on a
// shared machine a round that nobody preempted shows the hardware's rate, while a long round, a mean, or a
// round that waits for every thread at a barrier would measure the neighbours too. All threads run the
// kernel throughout, so the figure includes any clock drop from every core running AVX-512 at once.
double measure(double (*kernel)(int64_t), int threads, int64_t iterations, double budget_s) {
    double total = 0.0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        kernel(iterations * 20);  // wake the core and settle the AVX-512 clock (a few ms)
        double best = 0.0, spent = 0.0;
        for (int round = 0; round < 5 || spent < budget_s; ++round) {
            const auto start = clock_type::now();
            const double flops = kernel(iterations);
            const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
            best = std::max(best, flops / seconds / 1e9);
            spent += seconds;
        }
        total += best;
    }
    return total;
}

std::string number_or_null(double value, bool present) {
    if (!present) return "null";
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", value);
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    // --quick: a shorter budget for CI smoke runs.
    const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
    const double budget_s = quick ? 0.1 : 0.5;  // per kernel and thread count
    const int64_t iterations = 200'000;           // ~0.5 ms a round at 200 GFLOP/s (AVX-512): shorter than a time slice
    const int all = omp_get_num_procs();

    __builtin_cpu_init();
    const bool has_avx512 = __builtin_cpu_supports("avx512f");
    const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool has_bf16 = has_avx512 && __builtin_cpu_supports("avx512bf16");

    double avx512_1 = 0, avx512_all = 0, avx2_1 = 0, avx2_all = 0, bf16_1 = 0, bf16_all = 0;
    if (has_avx512) {
        avx512_1 = measure(avx512_fma_kernel, 1, iterations, budget_s);
        avx512_all = measure(avx512_fma_kernel, all, iterations, budget_s);
    }
    if (has_avx2) {
        avx2_1 = measure(avx2_fma_kernel, 1, iterations, budget_s);
        avx2_all = measure(avx2_fma_kernel, all, iterations, budget_s);
    }
    if (has_bf16) {
        bf16_1 = measure(bf16_dot_kernel, 1, iterations, budget_s);
        bf16_all = measure(bf16_dot_kernel, all, iterations, budget_s);
    }
    std::printf("{\"avx512_fma_gflops_1t\": %s, \"avx512_fma_gflops_all\": %s, \"avx2_fma_gflops_1t\": %s, "
                "\"avx2_fma_gflops_all\": %s, \"bf16_dot_gflops_1t\": %s, \"bf16_dot_gflops_all\": %s, "
                "\"avx512_bf16\": %s, \"threads\": %d}\n",
                number_or_null(avx512_1, has_avx512).c_str(), number_or_null(avx512_all, has_avx512).c_str(),
                number_or_null(avx2_1, has_avx2).c_str(), number_or_null(avx2_all, has_avx2).c_str(),
                number_or_null(bf16_1, has_bf16).c_str(), number_or_null(bf16_all, has_bf16).c_str(),
                has_bf16 ? "true" : "false", all);
    return 0;
}
