// The process's resident memory (Linux /proc/self/status), and what a finished run leaves behind: oneDNN's
// primitive cache keeps every primitive's memory, so a long sweep would grow with every point it has run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace c1r {

int64_t current_rss_bytes();  // VmRSS; 0 where unknown
// The run's own peak: Linux lets a process reset its high-water mark (clear_refs 5), so each run of a batch
// reports its own peak; elsewhere it is the process's peak so far.
void reset_peak_rss();
int64_t peak_rss_bytes();

// Which primitives oneDNN's cache holds (by problem key, see run/stages.cpp), and the memory they keep.
// After each run, `settle` keeps the memory gained since the first run (or since the cache was last emptied)
// within a tenth of the largest run's peak, at least 2 MiB: above that it empties the cache (and forgets its
// keys) and returns freed heap to the system. The first run's growth is the process's one-time set-up
// (OpenMP threads, oneDNN's tables) and that run's cached primitives, which stay.
class PrimitiveCacheBook {
public:
    bool holds(const std::string& key) const;
    void add(const std::string& key);
    // Call between runs, when nothing of the last run is alive but what the cache keeps.
    void settle(int64_t run_peak_bytes);

    static PrimitiveCacheBook& instance();  // one per process, as the cache itself

private:
    std::vector<std::string> keys_;  // sorted
    int64_t baseline_rss_ = -1;      // resident memory after the first run, or after the cache was emptied
    int64_t largest_peak_ = 0;
};

}  // namespace c1r
