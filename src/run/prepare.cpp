// Stage "prepare" of a run: the config with the command line's overrides, its inputs and the plan, checked
// against --max-memory before anything is allocated.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "core/error.hpp"
#include "core/math.hpp"
#include "io/csv.hpp"
#include "io/npy.hpp"
#include "run/memory.hpp"
#include "run/stages.hpp"

namespace c1r {
namespace {

void apply_overrides(ConfigSpec& config, const RunOverrides& o) {
    // --batch and --length override every input's shape, native or imported (SPEC §3).
    for (InputSpec* in : [&] {
             std::vector<InputSpec*> all{&config.input};
             for (auto& more : config.more_inputs) all.push_back(&more);
             return all;
         }()) {
        if (!in->shape) continue;
        if (o.batch) (*in->shape)[0] = *o.batch;
        if (o.length && !in->rank2)
            (*in->shape)[config.data_format == DataFormat::channels_first ? 2 : 1] = *o.length;
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
    if (!in.layout.empty()) {  // drawn in the input's axis order, as its file would hold them
        Tensor drawn = random_input(Shape{t.shape.elements(), 1, 1}, init, DataFormat::channels_last);
        return tensor_from_layout(t.shape, drawn.data.data(), in.layout);
    }
    if (t.shape.rank == 2) {
        Tensor flat = random_input(t.shape, init, DataFormat::channels_last);
        return flat;
    }
    return random_input(t.shape, init, format);
}

}  // namespace

std::string dims_text(const std::vector<int64_t>& dims) {
    std::string out = "(";
    for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
    return out + (dims.size() == 1 ? ",)" : ")");
}

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
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
    } else if (ext == ".npy" && !in.layout.empty()) {  // the array in the input's axis order
        NpyArray array = read_npy(file, kMaxLayoutAxes);
        if (std::string why = shape_from_layout_dims(array.shape, in.layout, shape); !why.empty())
            throw Error(ErrorKind::input, file + ": shape " + dims_text(array.shape) + " " + why + " (" + config.source +
                                              ": " + in.pointer + "/layout)");
        tensor = tensor_from_layout(shape, array.data.data(), in.layout);
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
        throw Error(ErrorKind::input,
                    file + ": unsupported input file type \"" + ext + "\" (expected .npy or .csv)");
    }
    if (in.shape && !in.rank2 && input_file.empty()) {  // --input replaces the shape (SPEC §3)
        Shape expected = shape_from_dims(*in.shape, config.data_format);
        auto text = [&](const Shape& x) {
            return in.layout.empty() ? shape_text(x, config.data_format) : layout_shape_text(x, in.layout);
        };
        if (!(expected == shape))
            throw Error(ErrorKind::input,
                        file + ": shape " + text(shape) + " does not match the config's " + in.pointer + "/shape " +
                            text(expected) + " (" + config.source + ")",
                        in.pointer + "/shape");
    }
    return tensor;
}

std::unique_ptr<Prepared> prepare(const RunItem& item, const RunOverrides& overrides, RunRecord& record) {
    auto p = std::make_unique<Prepared>();
    p->config = parse_config(item.resolved(), item.source);
    ConfigSpec& config = p->config;
    record.name = config.name;
    apply_overrides(config, overrides);

    // The shapes must be known before anything is allocated: a random input of a huge shape is refused first.
    // Input 0 is --input FILE (or NAME=FILE), or the config's; further inputs NAME=FILE or random.
    p->inputs = config.inputs();
    const auto& inputs = p->inputs;
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
            auto it = std::find_if(inputs.begin(), inputs.end(),
                                   [&](const InputSpec* in) { return in->name == name; });
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
    p->input_tensors.resize(inputs.size());
    p->sources.resize(inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k) {
        const InputSpec& in = *inputs[k];
        if (files[k].empty() && in.file.empty()) {
            Shape shape = shape_from_dims(*in.shape, config.data_format);
            // rank 2 is held as (batch, 1, features) whatever the data format (model/spec.hpp)
            if (in.rank2) shape = Shape::flat((*in.shape)[0], (*in.shape)[2]);
            shape.elements();  // overflow check
            shapes.push_back(shape);
        } else {
            Shape shape;
            p->input_tensors[k] = load_input(config, in, files[k], shape, p->sources[k]);
            shapes.push_back(shape);
        }
    }
    p->plan = make_plan(config, shapes);
    const Plan& plan = p->plan;
    for (const std::string& warning : plan.warnings)  // e.g. an unused model input
        std::cerr << "conv1d-reshape: warning: " << (warning.rfind(item.source, 0) == 0 ? "" : item.source + ": ")
                  << warning << "\n";
    record.input_source = p->sources[0];
    int64_t needed = plan.memory_bytes;
    if (overrides.verify)
        for (const auto& l : plan.layers)
            needed = checked_add(needed, checked_mul(l.output_shape.elements(), 8));
    record.memory_bytes = needed;
    if (overrides.max_memory > 0 && !overrides.dry_run) {
        // What the process already holds counts too (the program, oneDNN, what earlier runs left cached).
        const int64_t held = current_rss_bytes();
        if (needed > overrides.max_memory - held)
            throw Error(ErrorKind::config, item.source + ": the run needs an estimated " +
                                               std::to_string(needed) +
                                               " bytes (input, weights, the layer outputs alive at once "
                                               "and scratch space) and the process already " +
                                               "holds " + std::to_string(held) + ", more than --max-memory " +
                                               std::to_string(overrides.max_memory));
    }
    check_output_shapes(plan, overrides);
    if (!overrides.save_weights_dir.empty()) check_save_weights(plan, overrides.save_weights_dir);

    record.data_format = config.data_format;
    record.dtype = config.run.dtype;
    record.onednn = Context::onednn_version();
    record.cpu_isa = Context::cpu_isa();
    record.input_shape = plan.input_shape;
    record.output_shape = plan.output_shape;
    // Reports give a model input's or output's shape in its axis order (the plan's: the data format's unless
    // the config gives one).
    record.input_layout = plan.input_layouts.at(0);
    record.output_layouts = plan.output_layouts;
    for (int t : plan.output_tensors)
        record.outputs.emplace_back(plan.tensors[static_cast<size_t>(t)].name,
                                    plan.tensors[static_cast<size_t>(t)].shape);
    record.graph = !plan.is_chain();
    record.params = plan.total_params;
    record.flops = plan.total_flops;
    p->threads = thread_rule(config.run.threads);
    record.threads_mode = p->threads.automatic ? "auto" : "fixed";
    record.threads = p->threads.automatic ? Context::max_threads() : p->threads.candidates.front();
    for (const auto& l : plan.layers) {
        LayerRecord layer_record;
        layer_record.plan = l;
        record.layers.push_back(std::move(layer_record));
    }
    return p;
}

double estimated_work(const RunItem& item, const RunOverrides& overrides) {
    if (item.error || !overrides.input_file.empty() || !overrides.more_inputs.empty()) return -1;
    if (overrides.dry_run) return 1;
    try {
        ConfigSpec config = parse_config(item.resolved(), item.source);
        apply_overrides(config, overrides);
        std::vector<Shape> shapes;
        for (const InputSpec* in : config.inputs()) {
            if (!in->file.empty() || !in->shape) return -1;
            Shape shape = shape_from_dims(*in->shape, config.data_format);
            shapes.push_back(in->rank2 ? Shape::flat((*in->shape)[0], (*in->shape)[2]) : shape);
        }
        const Plan plan = make_plan(config, shapes);
        // Warm-up and timed passes, the per-layer pass, the thread probe; creating primitives costs about as
        // much as a few million FLOPs.
        const double passes = static_cast<double>(config.run.warmup + 2 * config.run.repeats) + 10;
        return static_cast<double>(plan.total_flops) * passes + 5e6;
    } catch (const std::exception&) {
        return -1;
    }
}

void make_random_inputs(Prepared& p) {
    for (size_t k = 0; k < p.inputs.size(); ++k) {
        if (!p.sources[k].empty()) continue;
        p.sources[k] = "random";
        p.input_tensors[k] = random_model_input(p.plan, k, *p.inputs[k], p.config.data_format);
    }
}

}  // namespace c1r
