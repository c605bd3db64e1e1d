// One run, start to end: input, plan, memory check, weights, oneDNN build and timing, verification, saved output.
#include "run/runner.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "io/csv.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "io/npy.hpp"
#include "reference/reference.hpp"

namespace c1r {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

std::string dims_text(const std::vector<int64_t>& dims) {
    std::string out = "(";
    for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
    return out + (dims.size() == 1 ? ",)" : ")");
}

// Times `body` once per sample; the deadline is checked with the timestamps the timing takes anyway.
template <typename Body>
std::vector<double> time_samples(int64_t count, const Deadline& deadline, Body&& body) {
    std::vector<double> samples;
    samples.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
        auto start = Clock::now();
        body();
        auto end = Clock::now();
        samples.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        deadline.check(end);
    }
    return samples;
}

// Every primitive this process has created, by problem: a repeat is served by oneDNN's primitive cache.
std::set<std::string>& seen_problems() {
    static std::set<std::string> seen;  // process-wide by nature: oneDNN's primitive cache is too
    return seen;
}

std::string problem_key(const LayerPlan& layer, DType dtype, int threads) {
    return std::string(to_string(layer.spec.type)) + "|" + layer.summary + "|" + benchdnn_descriptor(layer) + "|" +
           std::to_string(layer.input_shape.batch) + "x" + std::to_string(layer.input_shape.length) + "x" +
           std::to_string(layer.input_shape.channels) + "|" + to_string(dtype) + "|" + std::to_string(threads);
}

// Peak resident memory of this run: Linux lets a process reset its high-water mark (clear_refs 5), so in a
// batch each run reports its own peak; elsewhere it is the process's peak so far.
void reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    if (clear) clear << "5";
}

int64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

struct Verification {
    VerifyRecord summary;
    std::vector<std::pair<double, double>> per_layer;  // abs, rel
};

// Runs the reference chain from the same input and weights and compares every layer's output.
Verification verify(const Plan& plan, const Network& network, const Tensor& input,
                    const std::vector<LayerWeights>& weights, DType dtype, const Deadline& deadline) {
    Verification v;
    v.summary.tolerance = dtype == DType::bf16 ? 3e-2 : 1e-4;
    Tensor current = input;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        current = reference_layer(plan.layers[i], current, weights[i], plan.data_format);
        deadline.check();
        if (network.units()[i].includes_next_activation) {
            v.per_layer.emplace_back(NAN, NAN);  // its output already holds the next layer's activation
            continue;
        }
        Tensor got = network.layer_output(i);
        double max_abs = 0, scale = 0;
        for (size_t k = 0; k < current.data.size(); ++k) {
            double diff = std::fabs(static_cast<double>(got.data[k]) - current.data[k]);
            if (std::isnan(got.data[k])) diff = INFINITY;
            max_abs = std::max(max_abs, diff);
            scale = std::max(scale, std::fabs(static_cast<double>(current.data[k])));
        }
        // Relative to the layer's largest reference value: long sums make per-element ratios meaningless near zero.
        double rel = max_abs / std::max(scale, 1e-30);
        if (max_abs == 0) rel = 0;
        v.per_layer.emplace_back(max_abs, rel);
        v.summary.max_abs_error = std::max(v.summary.max_abs_error, max_abs);
        v.summary.max_rel_error = std::max(v.summary.max_rel_error, rel);
    }
    v.summary.passed = v.summary.max_rel_error <= v.summary.tolerance;
    return v;
}

void apply_overrides(ConfigSpec& config, const RunOverrides& o) {
    if (o.seed) {
        config.input.init.seed = *o.seed;
        config.run.seed = *o.seed;
    }
    if (o.warmup) config.run.warmup = *o.warmup;
    if (o.repeats) config.run.repeats = *o.repeats;
    if (o.threads) config.run.threads = *o.threads;
    if (o.dtype) config.run.dtype = *o.dtype;
}

}  // namespace

int64_t default_max_memory() {
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_size <= 0) return int64_t{8} << 30;
    return static_cast<int64_t>(pages) * page_size / 4 * 3;  // three quarters: room for the OS and the rest
}

Tensor load_input(const ConfigSpec& config, const std::string& input_file, Shape& shape, std::string& source) {
    const std::string file = input_file.empty() ? config.input.file : input_file;
    if (file.empty()) {
        shape = shape_from_dims(*config.input.shape, config.data_format);
        source = "random";
        return random_input(shape, config.input.init, config.data_format);
    }
    source = file;
    std::string ext = lower_extension(file);
    Tensor tensor;
    if (ext == ".csv") {
        CsvTable table = read_csv(file);  // rows are time steps in both data formats
        shape = {1, table.rows, table.cols};
        tensor = {shape, std::move(table.data)};
    } else if (ext == ".npy") {
        NpyArray array = read_npy(file);
        Dims3 dims{};
        if (array.shape.size() == 1) {
            shape = {1, array.shape[0], 1};
            dims = dims_from_shape(shape, config.data_format);
        } else if (array.shape.size() == 2) {
            dims = {1, array.shape[0], array.shape[1]};
        } else {
            dims = {array.shape[0], array.shape[1], array.shape[2]};
        }
        shape = shape_from_dims(dims, config.data_format);
        tensor = tensor_from_user_order(shape, array.data.data(), config.data_format);
    } else {
        throw Error(ErrorKind::input, file + ": unsupported input file type \"" + ext + "\" (expected .npy or .csv)");
    }
    if (config.input.shape) {
        Shape expected = shape_from_dims(*config.input.shape, config.data_format);
        if (!(expected == shape))
            throw Error(ErrorKind::input,
                        file + ": shape " + shape_text(shape, config.data_format) + " does not match the config's " +
                            "/input/shape " + shape_text(expected, config.data_format) + " (" + config.source + ")",
                        "/input/shape");
    }
    return tensor;
}

std::vector<LayerWeights> load_weights(const Plan& plan, uint64_t seed, const std::string& source) {
    std::vector<LayerWeights> all;
    for (const auto& layer : plan.layers) {
        LayerWeights w = default_weights(layer, seed);
        const LayerSpec& s = layer.spec;
        auto check = [&](const NpyArray& a, const std::vector<int64_t>& want, const std::string& file,
                         const std::string& key) {
            if (a.shape != want)
                throw Error(ErrorKind::input,
                            file + ": " + key + " shape " + dims_text(a.shape) + " does not fit layer " +
                                std::to_string(layer.index) + " (" + to_string(s.type) + "), which needs " +
                                dims_text(want) + " in Keras layout (" + source + " " + s.pointer + "/weights/" +
                                key + ")",
                            s.pointer + "/weights/" + key);
        };
        if (!s.kernel_file.empty()) {
            NpyArray kernel = read_npy(s.kernel_file);
            check(kernel, keras_kernel_shape(layer), s.kernel_file, "kernel");
            w.kernel = std::move(kernel.data);
        }
        if (!s.bias_file.empty()) {
            if (!s.use_bias)
                throw Error(ErrorKind::config, source + ": " + s.pointer + "/weights/bias: the layer has use_bias false",
                            s.pointer + "/weights/bias");
            NpyArray bias = read_npy(s.bias_file);
            check(bias, {s.filters}, s.bias_file, "bias");
            w.bias = std::move(bias.data);
        }
        all.push_back(std::move(w));
    }
    return all;
}

RunRecord run_item(Context& context, const RunItem& item, const RunOverrides& overrides) {
    RunRecord record;
    reset_peak_rss();
    const Deadline deadline(overrides.timeout_seconds);
    record.config = item.source;
    record.point = item.point;
    record.name = item.name;
    try {
        if (item.error) throw *item.error;
        ConfigSpec config = parse_config(item.resolved(), item.source);
        record.name = config.name;
        apply_overrides(config, overrides);
        if (!overrides.input_file.empty() && !std::filesystem::exists(overrides.input_file))
            throw Error(ErrorKind::input, overrides.input_file + ": no such file (--input)");

        // The shape must be known before anything is allocated: a random input of a huge shape is refused first.
        Plan plan;
        Tensor input;
        if (overrides.input_file.empty() && config.input.file.empty()) {
            Shape shape = shape_from_dims(*config.input.shape, config.data_format);
            shape.elements();  // overflow check
            plan = make_plan(config, shape);
        } else {
            Shape shape;
            input = load_input(config, overrides.input_file, shape, record.input_source);
            plan = make_plan(config, shape);
        }
        int64_t needed = plan.memory_bytes;
        if (overrides.verify)
            for (const auto& l : plan.layers) needed = checked_add(needed, checked_mul(l.output_shape.elements(), 8));
        record.memory_bytes = needed;
        if (overrides.max_memory > 0 && needed > overrides.max_memory && !overrides.dry_run)
            throw Error(ErrorKind::config,
                        item.source + ": the run needs an estimated " + std::to_string(needed) +
                            " bytes, more than --max-memory " + std::to_string(overrides.max_memory) +
                            " (input, weights, every layer's output and scratch space)");

        record.data_format = config.data_format;
        record.dtype = config.run.dtype;
        record.onednn = Context::onednn_version();
        record.cpu_isa = Context::cpu_isa();
        record.input_shape = plan.input_shape;
        record.output_shape = plan.output_shape;
        record.params = plan.total_params;
        record.flops = plan.total_flops;
        record.threads_mode = config.run.threads == 0 ? "auto" : "fixed";
        record.threads = config.run.threads == 0 ? Context::max_threads() : static_cast<int>(config.run.threads);
        for (const auto& l : plan.layers) {
            LayerRecord layer_record;
            layer_record.plan = l;
            record.layers.push_back(std::move(layer_record));
        }

        if (overrides.dry_run) {
            if (record.input_source.empty()) record.input_source = "random";
            return record;
        }
        if (record.input_source.empty()) {
            Shape shape;
            input = load_input(config, "", shape, record.input_source);
        }
        uint64_t weight_seed = config.run.seed.value_or(config.input.init.seed);
        std::vector<LayerWeights> weights = load_weights(plan, weight_seed, item.source);

        // Threads: fixed, or measured: every candidate count runs the stack a few times (at least 3 passes,
        // at most 15 or ~0.2 s) and the fastest wins. One network at a time: the winner is rebuilt afterwards,
        // which oneDNN's primitive cache makes nearly free, so big problems never hold two copies.
        std::vector<int> candidates;
        if (config.run.threads > 0) candidates = {static_cast<int>(config.run.threads)};
        else if (Context::max_threads() > 1) candidates = {1, Context::max_threads()};
        else candidates = {1};

        int threads = candidates.front();
        double probe_ms = 0;
        std::optional<double> probe_create_ms;  // the winner's first (cold) creation, during the probe
        bool cache_hit = true;
        for (const auto& l : plan.layers)
            for (int t : candidates) cache_hit &= seen_problems().count(problem_key(l, config.run.dtype, t)) > 0;
        if (candidates.size() > 1) {
            auto probe_start = Clock::now();
            double best = INFINITY;
            for (int t : candidates) {
                Context::set_threads(t);
                deadline.check();
                Network candidate(context, plan, weights, config.run.dtype);
                for (const auto& l : plan.layers) seen_problems().insert(problem_key(l, config.run.dtype, t));
                candidate.set_input(input);
                candidate.forward();  // warm
                std::vector<double> samples;
                auto start = Clock::now();
                while (samples.size() < 15 && (samples.size() < 3 || elapsed_ms(start) < 200.0)) {
                    auto one = time_samples(1, deadline, [&] { candidate.forward(); });
                    samples.push_back(one.front());
                }
                double median = summarize(samples).median;
                if (median < best) best = median, threads = t, probe_create_ms = candidate.create_ms();
            }
            probe_ms = elapsed_ms(probe_start);
        }
        Context::set_threads(threads);
        deadline.check();
        auto network = std::make_unique<Network>(context, plan, weights, config.run.dtype);
        for (const auto& l : plan.layers) seen_problems().insert(problem_key(l, config.run.dtype, threads));
        network->set_input(input);
        double create_ms = probe_create_ms.value_or(network->create_ms());
        Context::set_threads(threads);
        record.threads = threads;

        deadline.check();
        time_samples(config.run.warmup, deadline, [&] { network->forward(); });
        auto forward = time_samples(config.run.repeats, deadline, [&] { network->forward(); });

        // Per-layer times come from a separate pass, step by step, so the whole-stack time stays undisturbed.
        // A stack of one single-step layer is its own per-layer pass: the forward samples serve both.
        const bool single_step = plan.layers.size() == 1 && network->units()[0].steps.size() == 1 &&
                                 !network->units()[0].steps[0].is_reorder;
        for (size_t i = 0; i < plan.layers.size(); ++i) {
            const LayerUnit& unit = network->units()[i];
            std::vector<double> layer_samples(static_cast<size_t>(config.run.repeats), 0.0), reorder_samples;
            if (single_step) layer_samples = forward;
            for (size_t s = 0; s < unit.steps.size() && !single_step; ++s) {
                network->run_step(i, s);  // warm
                auto samples = time_samples(config.run.repeats, deadline, [&] { network->run_step(i, s); });
                for (size_t k = 0; k < samples.size(); ++k) layer_samples[k] += samples[k];
                if (unit.steps[s].is_reorder) reorder_samples = samples;
            }
            LayerRecord& l = record.layers[i];
            l.impl = unit.impl;
            l.layout = unit.dst_layout;
            l.reorder = unit.reorder_before;
            if (!reorder_samples.empty()) l.reorder_ms = summarize(reorder_samples).median;
            l.time_ms = summarize(unit.steps.empty() ? std::vector<double>{0.0} : layer_samples);
        }

        // The per-layer pass ran steps out of their stack order (an in-place epilogue repeatedly, say):
        // one whole forward pass leaves every layer's output as the stack computes it, for --verify and saving.
        if (!single_step) network->forward();

        TimingRecord timing;
        timing.create_ms = create_ms;
        timing.cache_hit = cache_hit;
        timing.warmup = config.run.warmup;
        timing.repeats = config.run.repeats;
        timing.forward_ms = summarize(forward);
        timing.gflops = timing.forward_ms.median > 0
                            ? static_cast<double>(plan.total_flops) / (timing.forward_ms.median * 1e6)
                            : 0;
        if (candidates.size() > 1) timing.threads_probe_ms = probe_ms;
        record.timing = timing;

        if (overrides.verify) {
            Verification v = verify(plan, *network, input, weights, config.run.dtype, deadline);
            record.verify = v.summary;
            for (size_t i = 0; i < v.per_layer.size(); ++i) {
                if (std::isnan(v.per_layer[i].first)) continue;
                record.layers[i].max_abs_error = v.per_layer[i].first;
                record.layers[i].max_rel_error = v.per_layer[i].second;
            }
        }
        record.peak_rss_bytes = peak_rss_bytes();
        if (record.verify && !record.verify->passed) {
            record.error = ErrorRecord{item.source + ": --verify failed: max relative error " +
                                           std::to_string(record.verify->max_rel_error) + " over tolerance " +
                                           std::to_string(record.verify->tolerance),
                                       "", kExitFailure};
            return record;
        }
        if (!overrides.save_output.empty()) {
            Dims3 dims = dims_from_shape(plan.output_shape, plan.data_format);
            std::vector<float> values = tensor_to_user_order(network->output(), plan.data_format);
            write_npy(overrides.save_output, {dims[0], dims[1], dims[2]}, values.data(), values.size());
        }
    } catch (const Error& e) {
        std::string message = e.what();
        if (message.rfind(item.source, 0) != 0) message = item.source + ": " + message;  // every message names its file
        record.error = ErrorRecord{message, e.pointer(), exit_code(e.kind())};
    } catch (const dnnl::error& e) {
        record.error = ErrorRecord{item.source + ": oneDNN error: " + e.what(), "", kExitFailure};
    } catch (const std::bad_alloc&) {
        record.error = ErrorRecord{item.source + ": out of memory", "", kExitFailure};
    } catch (const std::exception& e) {
        record.error = ErrorRecord{item.source + ": " + e.what(), "", kExitFailure};
    }
    return record;
}

}  // namespace c1r
