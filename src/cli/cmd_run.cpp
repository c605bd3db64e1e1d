// `conv1d-reshape [--config] x.json ...`: collect runs, run each, stream the reports, pick the exit code.
#include "cli/cmd_run.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

#include "run/batch.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"

namespace c1r {
namespace {

// A progress line on a terminal only: done/total, current config, elapsed and time left.
class Progress {
public:
    Progress(size_t total, bool enabled) : total_(total), enabled_(enabled && total > 1 && isatty(STDERR_FILENO)) {}
    void update(size_t done, const std::string& current) {
        if (!enabled_) return;
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        std::string name = current.size() > 40 ? "..." + current.substr(current.size() - 37) : current;
        char left[48] = "estimating time left";
        if (done)
            std::snprintf(left, sizeof left, "~%.1fs left",
                          elapsed / static_cast<double>(done) * static_cast<double>(total_ - done));
        std::fprintf(stderr, "\r\033[K[%zu/%zu] %s  %.1fs elapsed, %s", done, total_, name.c_str(), elapsed, left);
        std::fflush(stderr);
    }
    void finish() {
        if (enabled_) std::fprintf(stderr, "\r\033[K");
    }

private:
    size_t total_;
    bool enabled_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

int64_t parse_bytes(const std::string& text) {
    size_t used = 0;
    long double value = 0;
    try {
        value = std::stold(text, &used);
    } catch (const std::exception&) {
        throw Error(ErrorKind::usage, "--max-memory " + text + ": expected bytes, e.g. 8G, 512M or 1000000");
    }
    std::string suffix = text.substr(used);
    std::map<std::string, long double> units{{"", 1}, {"K", 1024.0L}, {"M", 1024.0L * 1024}, {"G", 1024.0L * 1024 * 1024},
                                             {"T", 1024.0L * 1024 * 1024 * 1024}};
    if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
    if (!suffix.empty() && suffix.back() == 'i') suffix.pop_back();
    for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto it = units.find(suffix);
    long double bytes = it == units.end() ? -1 : value * it->second;
    if (it == units.end() || !(bytes >= 1) || bytes > 9.2e18L)  // "0.5" would truncate to 0, i.e. no limit
        throw Error(ErrorKind::usage, "--max-memory " + text + ": expected a positive size, e.g. 8G, 512M or 1000000");
    return static_cast<int64_t>(bytes);
}

void setup_run(CLI::App& app, RunOptions& o) {
    app.add_option("--config,-c", o.configs, "Config file or folder (repeatable)")->type_name("FILE");
    app.add_option("configs", o.configs, "Config files or folders (a folder runs its *.json in name order)")
        ->type_name("PATH");
    app.add_option("--format,-f", o.format, "Report format")
        ->transform(CLI::CheckedTransformer(std::map<std::string, Format>{{"table", Format::table},
                                                                           {"json", Format::json},
                                                                           {"jsonl", Format::jsonl},
                                                                           {"csv", Format::csv}}))
        ->default_str("table");
    app.add_option("--input", o.overrides.input_file, "Input sequence (.npy or .csv), replaces the config's input")
        ->type_name("FILE");
    app.add_option("--seed", o.seed, "Seed of the random input and the weights (over the config's)")
        ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
    app.add_option("--warmup", o.warmup, "Untimed forward passes before timing (default 5)")
        ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
    app.add_option("--repeats", o.repeats, "Timed forward passes (default 50)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
    app.add_option("--threads", o.threads, "auto (measured per run) or a thread count")->type_name("auto|N");
    app.add_option("--dtype", o.dtype, "Data type of activations and weights")
        ->check(CLI::IsMember({"f32", "bf16"}));
    app.add_option("--save-output", o.overrides.save_output, "Write the final output as float32 .npy")
        ->type_name("FILE.npy");
    app.add_flag("--verify", o.overrides.verify, "Compare every layer with the reference implementation");
    app.add_flag("--dry-run", o.overrides.dry_run, "Shapes, params, FLOPs, receptive field only; no oneDNN");
    app.add_option("--batch", o.batch, "Batch size for a Keras model's None batch")->check(CLI::Range(int64_t{1}, int64_t{1} << 31));
    app.add_option("--length", o.length, "Length for a Keras model's None length")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
    app.add_option("--max-memory", o.max_memory, "Refuse runs whose estimated memory is larger (e.g. 8G)")
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
    RunOverrides& ov = o.overrides;
    ov.seed = o.seed ? std::optional<uint64_t>(static_cast<uint64_t>(*o.seed)) : std::nullopt;
    ov.warmup = o.warmup;
    ov.repeats = o.repeats;
    ov.batch = o.batch;
    ov.length = o.length;
    if (!o.dtype.empty()) ov.dtype = o.dtype == "bf16" ? DType::bf16 : DType::f32;
    if (!o.threads.empty()) {
        if (o.threads == "auto") ov.threads = 0;
        else {
            try {
                size_t used = 0;
                long threads = std::stol(o.threads, &used);
                if (used != o.threads.size() || threads < 1 || threads > 4096) throw std::invalid_argument("range");
                ov.threads = threads;
            } catch (const std::exception&) {
                throw Error(ErrorKind::usage, "--threads " + o.threads + ": expected auto or a count from 1 to 4096");
            }
        }
    }
    ov.max_memory = o.max_memory.empty() ? default_max_memory() : parse_bytes(o.max_memory);

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
    if (ov.dtype == DType::bf16 && !Context::has_native_bf16() && !o.quiet)
        std::cerr << "conv1d-reshape: warning: this CPU (" << Context::cpu_isa()
                  << ") has no native bf16; oneDNN emulates it, slower than f32\n";

    Context context;
    auto printer = make_printer(o.format, std::cout);
    printer->begin();
    Progress progress(items.size(), !o.quiet);
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
