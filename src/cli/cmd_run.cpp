// `conv1d-reshape [--config] x.json ...`: collect runs, run each, stream the reports, pick the exit code.
#include "cli/cmd_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>

#include "cli/flags.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "run/batch.hpp"

namespace c1r {
namespace {

// --save-output takes .npy or .csv: anything else is refused before any run starts.
void check_save_extension(const std::string& entry) {
    const std::string ext = lower_extension(entry);
    if (ext != ".npy" && ext != ".csv")
        throw Error(ErrorKind::usage, "--save-output " + entry + ": unknown file type \"" + ext +
                                          "\" (expected .npy, float32, or .csv, one row per step)");
}

}  // namespace

void setup_run(CLI::App& app, RunOptions& o) {
    app.add_option("--config,-c", o.configs, "Config file or folder (repeatable); - reads standard input")
        ->type_name("FILE");
    app.add_option("configs", o.configs,
                   "Config files or folders (a folder runs its *.json in name order); - reads standard input")
        ->type_name("PATH");
    choice(app.add_option("--format,-f", o.format, "Report format (default table)"),
           std::vector<std::pair<std::string, Format>>{
               {"table", Format::table}, {"json", Format::json}, {"jsonl", Format::jsonl}, {"csv", Format::csv}})
        ->type_name("TEXT");
    choice(app.add_option("--csv", o.csv,
                          "CSV rows: one per layer (layers, the default) or one per run with a column per swept "
                          "pointer (runs); implies --format csv"),
           std::vector<std::pair<std::string, CsvLayout>>{{"layers", CsvLayout::layers}, {"runs", CsvLayout::runs}})
        ->type_name("layers|runs");
    app.add_option("--input", o.inputs,
                   "Input sequence (.npy or .csv), replaces the config's input; NAME=FILE for a named model input "
                   "(repeatable)")
        ->type_name("[NAME=]FILE");
    app.add_option("--weights", o.overrides.weights_dir,
                   "Every layer's weights from DIR/<layer name>/<variable>.npy (Keras layout); a missing file is an error")
        ->type_name("DIR");
    app.add_option("--seed", o.seed, "Seed of the random input and the weights (over the config's)")
        ->check(integer())
        ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
    app.add_option("--warmup", o.warmup, "Untimed forward passes before timing (default 5)")
        ->check(integer())
        ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
    app.add_option("--repeats", o.repeats, "Timed forward passes (default 50)")
        ->check(integer())
        ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
    app.add_option("--threads", o.threads, "auto (measured per run) or a thread count from 1 to 4096")
        ->transform(threads_value("--threads"))
        ->type_name("auto|N");
    choice(app.add_option("--dtype", o.dtype, "Data type of activations and weights (default: the config's, f32)"),
           std::vector<std::pair<std::string, DType>>{{"f32", DType::f32}, {"bf16", DType::bf16}})
        ->type_name("TEXT");
    app.add_option("--save-output", o.save_outputs,
                   "Write the model's output as float32 .npy, or .csv (one row per step, batch 1); NAME=FILE for one "
                   "of several outputs (repeatable)")
        ->type_name("[NAME=]FILE");
    app.add_option("--save-weights", o.overrides.save_weights_dir,
                   "Write the weights the run used as DIR/<layer name>/<variable>.npy (Keras layout, what --weights "
                   "reads); with --dry-run, without running")
        ->type_name("DIR");
    app.add_flag("--verify", o.overrides.verify, "Compare every layer with the reference implementation");
    app.add_flag("--dry-run", o.overrides.dry_run, "Shapes, params, FLOPs, receptive field only; no oneDNN");
    app.add_option("--batch", o.batch, "Batch size for a Keras model's None batch")
        ->check(integer())
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 31));
    app.add_option("--length", o.length, "Length for a Keras model's None length")
        ->check(integer())
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
    app.add_option("--max-memory", o.max_memory,
                   "Refuse runs whose estimated memory is larger: bytes, or with K, M, G or T (powers of 1024), "
                   "e.g. 8G or 512M")
        ->transform(size_value("--max-memory"))
        ->type_name("BYTES");
    app.add_option("--shard", o.shard, "Run only part I of N of the whole list of runs")->type_name("I/N");
    app.add_flag("--quiet,-q", o.quiet, "No progress or warnings on standard error");
    app.add_option("--timeout", o.overrides.timeout_seconds,
                   "Per-run time limit in seconds (checked between oneDNN calls); 0 = none")
        ->check(CLI::Range(0.0, 1e7));
}

int run_configs(RunOptions o) {
    if (o.configs.empty())
        throw Error(ErrorKind::usage, "no config given: conv1d-reshape --config x.json (or a folder); see --help");
    if (o.csv) {
        if (o.format == Format::json || o.format == Format::jsonl)
            throw Error(ErrorKind::usage, "--csv applies to CSV reports, not --format json or jsonl");
        o.format = Format::csv;
    }
    if (std::count(o.configs.begin(), o.configs.end(), "-") > 1)
        throw Error(ErrorKind::usage, "- (standard input) is given more than once; it can be read only once");
    RunOverrides& ov = o.overrides;
    for (size_t k = 0; k < o.inputs.size(); ++k) {
        if (k == 0) ov.input_file = o.inputs[0];
        else ov.more_inputs.push_back(o.inputs[k]);
    }
    for (size_t k = 0; k < o.save_outputs.size(); ++k) {
        check_save_extension(o.save_outputs[k]);
        if (k == 0) ov.save_output = o.save_outputs[0];
        else ov.more_outputs.push_back(o.save_outputs[k]);
    }
    ov.seed = o.seed ? std::optional<uint64_t>(static_cast<uint64_t>(*o.seed)) : std::nullopt;
    ov.warmup = o.warmup;
    ov.repeats = o.repeats;
    ov.batch = o.batch;
    ov.length = o.length;
    ov.dtype = o.dtype;
    ov.threads = o.threads;
    ov.max_memory = o.max_memory.value_or(default_max_memory());

    KerasImportOptions keras{o.batch, o.length,
                             ov.input_file.empty() ? "" : std::filesystem::absolute(ov.input_file).string()};
    std::vector<RunItem> items = collect_items(o.configs, keras);
    if (!o.shard.empty()) {
        auto [index, count] = parse_shard(o.shard);
        items = select_shard(std::move(items), index, count);
    }
    if (!ov.save_output.empty() && items.size() > 1)
        throw Error(ErrorKind::usage, "--save-output takes one run, but " + std::to_string(items.size()) +
                                          " runs were given (sweep points count as runs)");
    if (!ov.save_weights_dir.empty() && items.size() > 1)
        throw Error(ErrorKind::usage, "--save-weights takes one run, but " + std::to_string(items.size()) +
                                          " runs were given (sweep points count as runs)");
    if (ov.dtype == DType::bf16 && !Context::has_native_bf16() && !o.quiet)
        std::cerr << "conv1d-reshape: warning: this CPU (" << Context::cpu_isa()
                  << ") has no native bf16; oneDNN emulates it, slower than f32\n";

    Context context;
    auto printer = make_printer(o.format, std::cout, o.csv.value_or(CsvLayout::layers));
    printer->begin();
    // The time left is estimated from each run's work (its FLOPs times its passes), planned only for a terminal.
    const bool show_progress = !o.quiet && items.size() > 1 && isatty(STDERR_FILENO);
    std::vector<double> work(items.size(), 1.0);
    if (show_progress)
        for (size_t i = 0; i < items.size(); ++i) work[i] = estimated_work(items[i], ov);
    Progress progress(std::move(work), show_progress);
    int exit = kExitOk;
    install_interrupt_handlers();
    for (size_t i = 0; i < items.size(); ++i) {
        progress.update(i, items[i].source);
        RunRecord record;
        try {
            Deadline().check();  // a signal between runs
            record = run_item(context, items[i], ov);
        } catch (const Interrupted& stop) {
            // Finished runs are reported whole; the interrupted one is dropped, never half-printed.
            progress.finish();
            printer->end();
            std::cerr << "conv1d-reshape: interrupted by signal " << stop.signal << " after " << i << " of "
                      << items.size() << " runs\n";
            return 128 + stop.signal;
        }
        progress.finish();  // the report may share the terminal: clear the line before anything is printed
        if (record.error) {
            std::cerr << "conv1d-reshape: " << one_line(record.error->message) << "\n";
            exit = std::max(exit, record.error->exit_code);
        }
        printer->print(record);
        progress.update(i + 1, items[i].source);
    }
    progress.finish();
    printer->end();
    return exit;
}

}  // namespace c1r
