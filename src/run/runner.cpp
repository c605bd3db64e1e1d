// One run, start to end: input, plan, memory check, weights, oneDNN build and timing, verification, saved output.
#include "run/runner.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "io/csv.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "io/npy.hpp"
#include "reference/reference.hpp"
#include "layers/kind.hpp"
#include <map>

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

// Runs the reference graph from the same inputs and (unfolded) weights and compares every node's outputs,
// each read right after its node runs (buffers are reused once their last reader is done).
Verification verify(const Plan& plan, Network& network, const std::vector<Tensor>& inputs,
                    const std::vector<LayerWeights>& weights, DType dtype, const Deadline& deadline) {
    Verification v;
    v.summary.tolerance = dtype == DType::bf16 ? 3e-2 : 1e-4;
    std::vector<Tensor> tensors(plan.tensors.size());
    for (size_t k = 0; k < plan.input_tensors.size(); ++k) tensors[static_cast<size_t>(plan.input_tensors[k])] = inputs[k];
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerPlan& node = plan.layers[i];
        std::vector<const Tensor*> in;
        for (int t : node.input_tensors) in.push_back(&tensors[static_cast<size_t>(t)]);
        std::vector<Tensor> out = reference_node(node, in, weights[i], plan.data_format);
        deadline.check();
        network.run_node(i);
        // A node whose output already holds a later node's result (a fused activation or add) or folded
        // normalisation is compared there.
        bool absorbed = network.units()[i].holds_later_result;
        for (const auto& other : plan.layers) absorbed |= other.folded_into == i;
        double max_abs = 0, rel = 0;
        for (size_t k = 0; k < out.size(); ++k) {
            if (!absorbed) {
                Tensor got = network.layer_output(i, k);
                double abs_k = 0, scale = 0;
                for (size_t e = 0; e < out[k].data.size(); ++e) {
                    double diff = std::fabs(static_cast<double>(got.data[e]) - out[k].data[e]);
                    if (std::isnan(got.data[e])) diff = INFINITY;
                    abs_k = std::max(abs_k, diff);
                    scale = std::max(scale, std::fabs(static_cast<double>(out[k].data[e])));
                }
                // Relative to the node's largest reference value: long sums make per-element ratios meaningless near zero.
                double rel_k = abs_k == 0 ? 0 : abs_k / std::max(scale, 1e-30);
                max_abs = std::max(max_abs, abs_k);
                rel = std::max(rel, rel_k);
            }
            tensors[static_cast<size_t>(node.output_tensors[k])] = std::move(out[k]);
        }
        if (absorbed) {
            v.per_layer.emplace_back(NAN, NAN);
            continue;
        }
        v.per_layer.emplace_back(max_abs, rel);
        v.summary.max_abs_error = std::max(v.summary.max_abs_error, max_abs);
        v.summary.max_rel_error = std::max(v.summary.max_rel_error, rel);
    }
    v.summary.passed = v.summary.max_rel_error <= v.summary.tolerance;
    return v;
}

// Folds each batch normalisation that the plan marks into its conv's or dense's kernel and bias:
// g = gamma / sqrt(moving_variance + eps); kernel[..., f] *= g[f]; bias = (bias - moving_mean) * g + beta.
std::vector<LayerWeights> fold_batch_norms(const Plan& plan, std::vector<LayerWeights> weights) {
    for (size_t j = 0; j < plan.layers.size(); ++j) {
        const LayerPlan& bn = plan.layers[j];
        if (!bn.folded_into) continue;
        const size_t i = *bn.folded_into;
        const LayerSpec& s = bn.spec;
        const int64_t c = bn.input_shape.channels;
        const auto& w = weights[j];
        std::vector<double> g(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
        for (int64_t f = 0; f < c; ++f) {
            double gamma = s.scale ? w.var("gamma")[f] : 1.0, beta = s.center ? w.var("beta")[f] : 0.0;
            g[f] = gamma / std::sqrt(static_cast<double>(w.var("moving_variance")[f]) + s.epsilon);
            shift[f] = beta - w.var("moving_mean")[f] * g[f];
        }
        LayerWeights& target = weights[i];
        const LayerSpec& t = plan.layers[i].spec;
        const char* kernel = t.type == LayerType::separable_conv1d ? "pointwise_kernel" : "kernel";
        std::vector<float>& k = target.mutable_var(kernel);
        // The output channel is the kernel's last axis, except a transposed conv's (k, filters, Cin).
        const int64_t inner = t.type == LayerType::conv1d_transpose ? plan.layers[i].input_shape.channels : 1;
        for (size_t e = 0; e < k.size(); ++e) k[e] = static_cast<float>(k[e] * g[(e / inner) % c]);
        std::vector<float> bias = target.var("bias");
        if (bias.empty()) bias.assign(static_cast<size_t>(c), 0.0f);
        for (int64_t f = 0; f < c; ++f) bias[f] = static_cast<float>(bias[f] * g[f] + shift[f]);
        target.vars["bias"] = bias;
    }
    return weights;
}

void apply_overrides(ConfigSpec& config, const RunOverrides& o) {
    // --batch and --length override every input's shape, native or imported (SPEC §3).
    for (InputSpec* in : [&] {
             std::vector<InputSpec*> all{&config.input};
             for (auto& more : config.more_inputs) all.push_back(&more);
             return all;
         }()) {
        if (!in->shape) continue;
        if (o.batch) (*in->shape)[0] = *o.batch;
        if (o.length && !in->rank2) (*in->shape)[config.data_format == DataFormat::channels_first ? 2 : 1] = *o.length;
    }
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

Tensor load_input(const ConfigSpec& config, const InputSpec& in, const std::string& input_file, Shape& shape,
                  std::string& source) {
    const std::string file = input_file.empty() ? in.file : input_file;
    if (file.empty()) {
        shape = shape_from_dims(*in.shape, config.data_format);
        source = "random";
        return random_input(shape, in.init, config.data_format);
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
        } else if (array.shape.size() == 2 && in.rank2) {  // (batch, features)
            shape = Shape::flat(array.shape[0], array.shape[1]);
            return {shape, std::move(array.data)};
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
    if (in.shape && !in.rank2 && input_file.empty()) {  // --input replaces the shape (SPEC §3)
        Shape expected = shape_from_dims(*in.shape, config.data_format);
        if (!(expected == shape))
            throw Error(ErrorKind::input,
                        file + ": shape " + shape_text(shape, config.data_format) + " does not match the config's " +
                            "/input/shape " + shape_text(expected, config.data_format) + " (" + config.source + ")",
                        "/input/shape");
    }
    return tensor;
}

std::vector<LayerWeights> load_weights(const Plan& plan, uint64_t seed, const std::string& source,
                                       const std::string& weights_dir, const NamedWeights* file_weights) {
    std::vector<LayerWeights> all;
    std::map<std::string, size_t> by_name;
    for (const auto& layer : plan.layers) {
        const LayerSpec& s = layer.spec;
        if (!s.shared_with.empty() && by_name.count(s.shared_with)) {  // a repeated call: the same weights
            all.push_back(all[by_name[s.shared_with]]);
            continue;
        }
        by_name[s.name] = all.size();
        LayerWeights w = default_weights(layer, seed);
        auto variables = kind_of(s.type).variables;
        std::set<std::string> known;
        if (variables) {
            for (const Variable& v : variables(layer)) {
                known.insert(v.name);
                std::string file;
                if (file_weights) {  // a model file's own weights: bidirectional halves are "<name>/forward_<inner>"
                    std::string layer_key = s.name, var = v.name;
                    if (auto slash = v.name.rfind('/'); slash != std::string::npos)
                        layer_key += "/" + v.name.substr(0, slash), var = v.name.substr(slash + 1);
                    const WeightArray* found = nullptr;
                    if (auto l = file_weights->find(layer_key); l != file_weights->end()) {
                        auto a = l->second.find(var);
                        if (a == l->second.end() && var == "kernel") a = l->second.find("depthwise_kernel");  // Keras 2
                        if (a != l->second.end()) found = &a->second;
                    }
                    if (!found)
                        throw Error(ErrorKind::input,
                                    source + ": layer " + std::to_string(layer.index) + " '" + s.name + "' (" +
                                        to_string(s.type) + "): the file has no weight \"" + v.name + "\" " +
                                        dims_text(v.shape),
                                    s.pointer);
                    if (found->shape != v.shape)
                        throw Error(ErrorKind::input,
                                    source + ": layer " + std::to_string(layer.index) + " '" + s.name + "' (" +
                                        to_string(s.type) + "): weight \"" + v.name + "\" has shape " +
                                        dims_text(found->shape) + " in the file, the layer needs " + dims_text(v.shape),
                                    s.pointer);
                    w.vars[v.name] = found->values;
                    continue;
                }
                if (auto it = s.weight_files.find(v.name); it != s.weight_files.end()) file = it->second;
                else if (!weights_dir.empty()) {
                    file = weights_dir + "/" + s.name + "/" + v.name + ".npy";
                    if (!std::filesystem::exists(file))
                        throw Error(ErrorKind::input,
                                    file + ": no such file: --weights gives every layer its weights, and layer " +
                                        std::to_string(layer.index) + " '" + s.name + "' (" + to_string(s.type) +
                                        ") needs its " + v.name + " " + dims_text(v.shape) + " there",
                                    s.pointer);
                }
                if (file.empty()) continue;
                NpyArray a = read_npy(file);
                if (a.shape != v.shape)
                    throw Error(ErrorKind::input,
                                file + ": " + v.name + " shape " + dims_text(a.shape) + " does not fit layer " +
                                    std::to_string(layer.index) + " '" + s.name + "' (" + to_string(s.type) +
                                    "), which needs " + dims_text(v.shape) + " in Keras layout (" + source + " " +
                                    s.pointer + "/weights/" + v.name + ")",
                                s.pointer + "/weights/" + v.name);
                w.vars[v.name] = std::move(a.data);
            }
        }
        for (const auto& [name, file] : s.weight_files)
            if (!known.count(name)) {
                std::string names;
                for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
                throw Error(ErrorKind::config,
                            source + ": " + s.pointer + "/weights/" + name + ": layer " + std::to_string(layer.index) +
                                " (" + to_string(s.type) + ") has no variable \"" + name + "\"" +
                                (names.empty() ? " (it has no weights)" : " (its variables: " + names + ")"),
                            s.pointer + "/weights/" + name);
            }
        all.push_back(std::move(w));
    }
    return all;
}

// A random model input: integers in [0, input_dim) when an embedding reads it, else the init's distribution
// (each further input offsets the seed by its position, so inputs differ).
Tensor random_model_input(const Plan& plan, size_t k, const InputSpec& in, DataFormat format) {
    const TensorInfo& t = plan.tensors[static_cast<size_t>(plan.input_tensors[k])];
    for (int reader : t.readers) {
        const LayerSpec& s = plan.layers[static_cast<size_t>(reader)].spec;
        if (s.type != LayerType::embedding) continue;
        Tensor ids{t.shape, std::vector<float>(static_cast<size_t>(t.shape.elements()))};
        Random random(in.init.seed + k);
        for (auto& v : ids.data) v = static_cast<float>(random.next() % static_cast<uint64_t>(s.input_dim));
        return ids;
    }
    InitSpec init = in.init;
    init.seed += k;
    if (t.shape.rank == 2) {
        Tensor flat = random_input(t.shape, init, DataFormat::channels_last);
        return flat;
    }
    return random_input(t.shape, init, format);
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

        // The shapes must be known before anything is allocated: a random input of a huge shape is refused first.
        // Input 0 is --input FILE (or NAME=FILE), or the config's; further inputs NAME=FILE or random.
        const auto inputs = config.inputs();
        std::vector<std::string> files(inputs.size());
        std::vector<std::string> given = overrides.more_inputs;
        if (!overrides.input_file.empty()) given.insert(given.begin(), overrides.input_file);
        for (const std::string& entry : given) {
            auto eq = entry.find('=');
            size_t k = 0;
            std::string file = entry;
            if (eq != std::string::npos && !std::filesystem::exists(entry)) {
                std::string name = entry.substr(0, eq);
                file = entry.substr(eq + 1);
                auto it = std::find_if(inputs.begin(), inputs.end(), [&](const InputSpec* in) { return in->name == name; });
                if (it == inputs.end()) {
                    std::string names;
                    for (const auto* in : inputs) names += (names.empty() ? "" : ", ") + in->name;
                    throw Error(ErrorKind::usage, "--input " + entry + ": the model has no input \"" + name +
                                                      "\" (its inputs: " + names + ")");
                }
                k = static_cast<size_t>(it - inputs.begin());
            }
            if (!std::filesystem::exists(file)) throw Error(ErrorKind::input, file + ": no such file (--input)");
            files[k] = file;
        }
        std::vector<Shape> shapes;
        std::vector<Tensor> input_tensors(inputs.size());
        std::vector<std::string> sources(inputs.size());
        for (size_t k = 0; k < inputs.size(); ++k) {
            const InputSpec& in = *inputs[k];
            if (files[k].empty() && in.file.empty()) {
                Shape shape = shape_from_dims(*in.shape, config.data_format);
                if (in.rank2) shape = Shape::flat(shape.batch, shape.channels);
                shape.elements();  // overflow check
                shapes.push_back(shape);
            } else {
                Shape shape;
                input_tensors[k] = load_input(config, in, files[k], shape, sources[k]);
                shapes.push_back(shape);
            }
        }
        Plan plan = make_plan(config, shapes);
        for (const std::string& warning : plan.warnings)  // e.g. an unused model input
            std::cerr << "conv1d-reshape: warning: " << (warning.rfind(item.source, 0) == 0 ? "" : item.source + ": ")
                      << warning << "\n";
        record.input_source = sources[0];
        int64_t needed = plan.memory_bytes;
        if (overrides.verify)
            for (const auto& l : plan.layers) needed = checked_add(needed, checked_mul(l.output_shape.elements(), 8));
        record.memory_bytes = needed;
        if (overrides.max_memory > 0 && needed > overrides.max_memory && !overrides.dry_run)
            throw Error(ErrorKind::config,
                        item.source + ": the run needs an estimated " + std::to_string(needed) +
                            " bytes, more than --max-memory " + std::to_string(overrides.max_memory) +
                            " (input, weights, the layer outputs alive at once and scratch space)");

        record.data_format = config.data_format;
        record.dtype = config.run.dtype;
        record.onednn = Context::onednn_version();
        record.cpu_isa = Context::cpu_isa();
        record.input_shape = plan.input_shape;
        record.output_shape = plan.output_shape;
        for (int t : plan.output_tensors)
            record.outputs.emplace_back(plan.tensors[static_cast<size_t>(t)].name, plan.tensors[static_cast<size_t>(t)].shape);
        record.graph = !plan.is_chain();
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
            // --weights: every file must be there, even when nothing runs.
            if (!overrides.weights_dir.empty())
                for (const auto& l : plan.layers) {
                    auto variables = kind_of(l.spec.type).variables;
                    if (!variables || !l.spec.shared_with.empty()) continue;
                    for (const Variable& v : variables(l)) {
                        const std::string file = overrides.weights_dir + "/" + l.spec.name + "/" + v.name + ".npy";
                        if (!l.spec.weight_files.count(v.name) && !std::filesystem::exists(file))
                            throw Error(ErrorKind::input,
                                        file + ": no such file: --weights gives every layer its weights, and layer " +
                                            std::to_string(l.index) + " '" + l.spec.name + "' (" +
                                            to_string(l.spec.type) + ") needs its " + v.name + " " + dims_text(v.shape) +
                                            " there",
                                        l.spec.pointer);
                    }
                }
            if (record.input_source.empty()) record.input_source = "random";
            return record;
        }
        for (size_t k = 0; k < inputs.size(); ++k) {
            if (!sources[k].empty()) continue;
            sources[k] = "random";
            input_tensors[k] = random_model_input(plan, k, *inputs[k], config.data_format);
        }
        record.input_source = sources[0];
        const Tensor& input = input_tensors[0];
        uint64_t weight_seed = config.run.seed.value_or(config.input.init.seed);
        const std::vector<LayerWeights> weights =
            load_weights(plan, weight_seed, item.source, overrides.weights_dir,
                         overrides.weights_dir.empty() && item.weights ? item.weights.get() : nullptr);
        const std::vector<LayerWeights> network_weights = fold_batch_norms(plan, weights);
        std::vector<const Tensor*> input_ptrs;
        for (const auto& t : input_tensors) input_ptrs.push_back(&t);

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
                Network candidate(context, plan, network_weights, config.run.dtype);
                for (const auto& l : plan.layers) seen_problems().insert(problem_key(l, config.run.dtype, t));
                candidate.set_inputs(input_ptrs);
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
        auto network = std::make_unique<Network>(context, plan, network_weights, config.run.dtype);
        for (const auto& l : plan.layers) seen_problems().insert(problem_key(l, config.run.dtype, threads));
        network->set_inputs(input_ptrs);
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
        // one whole forward pass leaves the model outputs as the stack computes them, for saving (--verify runs
        // the nodes again one by one: buffers are reused, so only the model outputs outlive a whole pass).
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
            Verification v = verify(plan, *network, input_tensors, weights, config.run.dtype, deadline);
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
        // --save-output FILE (the first output) or NAME=FILE for any output.
        std::vector<std::string> saves = overrides.more_outputs;
        if (!overrides.save_output.empty()) saves.insert(saves.begin(), overrides.save_output);
        for (const std::string& entry : saves) {
            size_t k = 0;
            std::string file = entry;
            auto eq = entry.find('=');
            if (eq != std::string::npos) {
                const std::string name = entry.substr(0, eq);
                auto it = std::find_if(plan.output_tensors.begin(), plan.output_tensors.end(),
                                       [&](int t) { return plan.tensors[static_cast<size_t>(t)].name == name; });
                if (it != plan.output_tensors.end()) {
                    k = static_cast<size_t>(it - plan.output_tensors.begin());
                    file = entry.substr(eq + 1);
                } else if (name.find('/') == std::string::npos && name.find('.') == std::string::npos) {
                    std::string names;
                    for (int t : plan.output_tensors) names += (names.empty() ? "" : ", ") + plan.tensors[static_cast<size_t>(t)].name;
                    throw Error(ErrorKind::usage, "--save-output " + entry + ": the model has no output \"" + name +
                                                      "\" (its outputs: " + names + ")");
                }
            }
            const Shape& shape = plan.tensors[static_cast<size_t>(plan.output_tensors[k])].shape;
            std::vector<float> values = tensor_to_user_order(network->output(k), plan.data_format);
            write_npy(file, user_dims(shape, plan.data_format), values.data(), values.size());
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
