// The run command: options, their flags, and the batch loop that prints reports.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "report/report.hpp"
#include "run/runner.hpp"

namespace c1r {

struct RunOptions {
    std::vector<std::string> configs;  // --config and positional paths, in order; "-" is standard input
    Format format = Format::table;
    std::optional<CsvLayout> csv;       // --csv layers|runs; implies --format csv
    std::optional<int64_t> threads;     // 0: auto; unset: the config's
    std::optional<int64_t> max_memory;  // bytes; unset: default_max_memory()
    std::string shard;  // "I/N"
    bool quiet = false;
    RunOverrides overrides;
    std::vector<std::string> inputs;        // --input, each FILE or NAME=FILE
    std::vector<std::string> save_outputs;  // --save-output, each FILE or NAME=FILE
    std::optional<int64_t> seed, warmup, repeats, batch, length;
    std::optional<DType> dtype;  // unset: the config's
};

void setup_run(CLI::App& app, RunOptions& options);
// Runs every config; returns the exit code (SPEC §5).
int run_configs(RunOptions options);

}  // namespace c1r
