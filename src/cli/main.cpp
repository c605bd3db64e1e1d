// conv1d-reshape: Conv1D-style reshaping layers on oneDNN, measured and reported.
#include <malloc.h>

#include <clocale>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/cmd_plan.hpp"
#include "cli/cmd_run.hpp"
#include "core/error.hpp"
#include "network/network.hpp"

#ifndef C1R_VERSION
#define C1R_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
    // glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), after which
    // tensor-sized buffers (a unit's layout-trial output, a host copy) come from the heap and stay in RSS
    // once freed. A fixed threshold keeps every buffer of 1 MiB or more its own mapping, returned when freed:
    // (1, 200000, 32) residual stack, peak RSS 192 -> 119 MiB (scripts/residual_rss.py).
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    std::setlocale(LC_ALL, "");
    std::setlocale(LC_NUMERIC, "C");  // numbers print with a dot in every report
    CLI::App app{"conv1d-reshape: run Conv1D-style layer stacks on oneDNN and report shapes and timings",
                 "conv1d-reshape"};
    app.set_version_flag("--version", std::string("conv1d-reshape ") + C1R_VERSION + " (oneDNN " +
                                          c1r::Context::onednn_version() + ")");
    // Bad flags get the same one-line shape as every other error.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return "conv1d-reshape: " + c1r::one_line(e.what()) + " (see --help)\n";
    });
    c1r::RunOptions run_options;
    c1r::setup_run(app, run_options);
    c1r::PlanOptions plan_options;
    CLI::App* plan = c1r::setup_plan(app, plan_options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? c1r::kExitOk : c1r::kExitUsage;
    }
    try {
        if (plan->parsed()) return c1r::run_plan(plan_options);
        return c1r::run_configs(run_options);
    } catch (const c1r::Error& e) {
        std::cerr << "conv1d-reshape: " << c1r::one_line(e.what()) << "\n";
        return c1r::exit_code(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "conv1d-reshape: " << c1r::one_line(e.what()) << "\n";
        return c1r::kExitFailure;
    }
}
