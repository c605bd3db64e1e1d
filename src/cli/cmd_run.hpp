// The run command: options, their flags, and the batch loop that prints reports.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "report/report.hpp"
#include "run/runner.hpp"

namespace c1r {

struct RunOptions {
    std::vector<std::string> configs;  // --config and positional paths, in order
    Format format = Format::table;
    std::string threads;  // "auto" or N; empty: the config's
    std::string max_memory;
    std::string shard;  // "I/N"
    bool quiet = false;
    RunOverrides overrides;
    std::optional<int64_t> seed, warmup, repeats, batch, length;
    std::string dtype;
};

void setup_run(CLI::App& app, RunOptions& options);
// Runs every config; returns the exit code (SPEC §5).
int run_configs(RunOptions options);

// Parses "16G", "512M", "1000000" into bytes.
int64_t parse_bytes(const std::string& text);

}  // namespace c1r
