// Resident memory readings, and the bound on what oneDNN's primitive cache keeps between runs.
#include "run/memory.hpp"

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>

#include "network/cache.hpp"

namespace c1r {
namespace {

// A "Name:   1234 kB" line of /proc/self/status, in bytes; -1 when absent.
int64_t status_kb(const char* name) {
    std::ifstream status("/proc/self/status");
    const std::string prefix = std::string(name) + ":";
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(prefix, 0) == 0) return std::stoll(line.substr(prefix.size())) * 1024;
    return -1;
}

}  // namespace

int64_t current_rss_bytes() { return std::max<int64_t>(status_kb("VmRSS"), 0); }

void reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    if (clear) clear << "5";
}

int64_t peak_rss_bytes() {
    if (int64_t hwm = status_kb("VmHWM"); hwm >= 0) return hwm;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

bool PrimitiveCacheBook::holds(const std::string& key) const {
    return std::binary_search(keys_.begin(), keys_.end(), key);
}

void PrimitiveCacheBook::add(const std::string& key) {
    auto at = std::lower_bound(keys_.begin(), keys_.end(), key);
    if (at == keys_.end() || *at != key) keys_.insert(at, key);
}

void PrimitiveCacheBook::settle(int64_t run_peak_bytes) {
    largest_peak_ = std::max(largest_peak_, run_peak_bytes);
    if (baseline_rss_ <
        0) {  // after the first run: oneDNN, OpenMP and the allocator have set up once and for all
        baseline_rss_ = current_rss_bytes();
        return;
    }
    // Memory kept since the cache was last empty: cached primitives (their scratch space, kernels) and heap
    // the allocator has not given back. A tenth of the largest run (at least 2 MiB, so small problems stay
    // cached) keeps a sweep's peak near its largest point's.
    if (current_rss_bytes() - baseline_rss_ <= std::max<int64_t>(largest_peak_ / 10, int64_t{2} << 20))
        return;
    clear_primitive_cache();
    keys_.clear();
    malloc_trim(0);
    baseline_rss_ = current_rss_bytes();
}

PrimitiveCacheBook& PrimitiveCacheBook::instance() {
    static PrimitiveCacheBook book;  // process-wide by nature: oneDNN's primitive cache is too
    return book;
}

}  // namespace c1r
