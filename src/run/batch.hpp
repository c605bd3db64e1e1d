// The list of runs of a batch: files and folders, Keras models converted, sweeps expanded, shards selected.
#pragma once

#include <string>
#include <vector>

#include "import/keras.hpp"
#include "run/runner.hpp"

namespace c1r {

constexpr int64_t kMaxSweepPoints = 100000;

// Each path is a config file or a folder (its *.json files in name order). A file that cannot be read or
// expanded becomes one item carrying its error, so the batch goes on.
std::vector<RunItem> collect_items(const std::vector<std::string>& paths, const KerasImportOptions& keras);

// Expands a config's "sweep" grid: the last key varies fastest, in `key_order` (the file's order) when given,
// else in the object's order. Throws Error(config) for a malformed sweep or one of more than kMaxSweepPoints
// points; a pointer missing from the config fails only its points (when they run).
std::vector<RunItem> expand_sweep(const std::string& source, const nlohmann::json& config,
                                  const std::vector<std::string>& key_order = {});

// The index-th (1-based) of count contiguous, equal-as-possible parts.
std::vector<RunItem> select_shard(std::vector<RunItem> items, int64_t index, int64_t count);

// Parses "I/N" with 1 <= I <= N; throws Error(usage) otherwise.
std::pair<int64_t, int64_t> parse_shard(const std::string& text);

}  // namespace c1r
