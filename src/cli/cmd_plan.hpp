// The plan subcommand: search single-layer (and two-layer) settings that map one length to another (SPEC §6).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "report/report.hpp"

namespace c1r {

struct PlanOptions {
    int64_t in_length = 0;
    int64_t out_length = 0;
    int64_t max_kernel = 9;
    int64_t max_dilation = 4;
    std::vector<std::string> types;  // empty: every type
    Format format = Format::table;   // table, json or csv
    std::string emit_config;         // write the best candidate as a runnable config
    std::optional<int64_t> in_channels, out_channels;
    std::optional<int64_t> top;  // at most N single-layer settings (default all) and N stacks (default 20)
    bool two_layer = false;
};

// Adds the `plan` subcommand to the app; returns it so main can tell whether it was chosen.
CLI::App* setup_plan(CLI::App& app, PlanOptions& options);
// Prints the candidates to stdout and notes to stderr; returns the exit code. Throws Error(usage) for bad
// flags.
int run_plan(const PlanOptions& options);
int run_plan(const PlanOptions& options, std::ostream& out, std::ostream& err);

}  // namespace c1r
