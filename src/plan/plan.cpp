// The model graph planned for its input shapes: resolves names to tensors, orders the nodes, asks each kind's
// row for shapes and figures, and follows the index maps along every path for receptive field and jump.
#include "plan/plan.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "layers/layout.hpp"

namespace c1r {
namespace {

[[noreturn]] void fail_layer(const ConfigSpec& config, const LayerSpec& layer, size_t index, const std::string& why,
                             const std::string& key = {}) {
    std::string pointer = layer.pointer + (key.empty() ? "" : "/" + key);
    throw Error::at(ErrorKind::config, config.source, pointer,
                    "layer " + std::to_string(index) +
                        (layer.name.empty() || layer.auto_named ? "" : " '" + layer.name + "'") + " (" +
                        to_string(layer.type) + "): " + why);
}

std::string dims_words(const std::vector<int64_t>& dims) {
    std::string text = "(";
    for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + (dims.size() == 1 ? ",)" : ")");
}

// How a node scales the distance between neighbouring output steps, in input steps.
double next_jump(double jump, const LayerPlan& l) {
    const LayerSpec& s = l.spec;
    switch (s.type) {
        case LayerType::conv1d:
        case LayerType::depthwise_conv1d:
        case LayerType::separable_conv1d:
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d: return jump * static_cast<double>(s.strides);
        case LayerType::conv1d_transpose: return jump / static_cast<double>(s.strides);
        case LayerType::upsample1d:  // align_corners: output steps (L-1)/(L*size-1) input steps apart
            if (s.align_corners && l.output_shape.length > 1)
                return jump * static_cast<double>(l.input_shape.length - 1) / static_cast<double>(l.output_shape.length - 1);
            return jump / static_cast<double>(s.size);
        default: return jump;
    }
}

// Bytes oneDNN may take as scratch for a conv that falls back to GEMM (im2col), an upper bound per thread.
int64_t scratch_estimate(const LayerPlan& layer) {
    if (layer.spec.type != LayerType::conv1d && layer.spec.type != LayerType::conv1d_transpose) return 0;
    const Shape& big = layer.spec.type == LayerType::conv1d ? layer.output_shape : layer.input_shape;
    int64_t cin = layer.spec.type == LayerType::conv1d ? layer.input_shape.channels / layer.spec.groups
                                                        : layer.output_shape.channels;
    return checked_mul(checked_mul(checked_mul(big.length, cin), layer.spec.kernel_size), 4);
}

Span hull(Span a, Span b) { return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)}; }

// Largest number of model-input steps one output step of node `last` depends on, over every path (the hull of
// the spans that reach each input), sampled over output positions at the start and the middle (the pattern
// repeats with the product of the growing layers' factors). 128-bit spans: no index map can overflow.
int64_t receptive_field(const Plan& plan, size_t last) {
    constexpr int64_t kSamples = 256;
    const LayerPlan& node = plan.layers[last];
    const int64_t length = node.output_shape.length;
    Wide best = 0;
    std::vector<std::optional<Span>> spans(plan.tensors.size());
    auto measure = [&](int64_t o) {
        std::fill(spans.begin(), spans.end(), std::nullopt);
        for (int t : node.output_tensors) spans[static_cast<size_t>(t)] = Span{o, o};
        for (size_t i = last + 1; i-- > 0;) {
            const LayerPlan& l = plan.layers[i];
            std::optional<Span> out;
            for (int t : l.output_tensors)
                if (auto& s = spans[static_cast<size_t>(t)]) out = out ? hull(*out, *s) : *s;
            if (!out) continue;
            const LayerKind& kind = kind_of(l.spec.type);
            Span in = kind.input_span ? kind.input_span(l, *out) : *out;
            if (in.lo > in.hi) continue;
            for (int t : l.input_tensors) {
                auto& s = spans[static_cast<size_t>(t)];
                s = s ? hull(*s, in) : in;
            }
        }
        for (int t : plan.input_tensors)
            if (const auto& s = spans[static_cast<size_t>(t)]) best = std::max(best, s->hi - s->lo + 1);
    };
    for (int64_t o = 0; o < std::min(length, kSamples); ++o) measure(o);
    for (int64_t o = length / 2; o < std::min(length, length / 2 + kSamples); ++o) measure(o);
    return best > Wide{std::numeric_limits<int64_t>::max()} ? std::numeric_limits<int64_t>::max()
                                                             : static_cast<int64_t>(best);
}

int64_t round_up(int64_t value, int64_t multiple) { return checked_mul(ceil_div(value, multiple), multiple); }

// Orders nodes so that each comes after what it reads, keeping the config's order where it may (a chain
// stays as written). Returns indices into config.layers; a cycle is an error naming its layers.
std::vector<size_t> topological_order(const ConfigSpec& config, const std::vector<std::vector<int>>& reads_node) {
    const size_t n = config.layers.size();
    std::vector<int> waiting(n, 0);
    std::vector<std::vector<size_t>> readers(n);
    for (size_t i = 0; i < n; ++i)
        for (int j : reads_node[i])
            if (j >= 0) ++waiting[i], readers[static_cast<size_t>(j)].push_back(i);
    std::set<size_t> ready;
    for (size_t i = 0; i < n; ++i)
        if (waiting[i] == 0) ready.insert(i);
    std::vector<size_t> order;
    while (!ready.empty()) {
        size_t i = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(i);
        for (size_t r : readers[i])
            if (--waiting[r] == 0) ready.insert(r);
    }
    if (order.size() != n) {
        std::string names;
        for (size_t i = 0; i < n; ++i)
            if (waiting[i] > 0) names += (names.empty() ? "" : ", ") + ("'" + config.layers[i].name + "'");
        const LayerSpec& first = *std::find_if(config.layers.begin(), config.layers.end(),
                                               [&](const LayerSpec& l) { return waiting[&l - &config.layers[0]] > 0; });
        throw Error::at(ErrorKind::config, config.source, first.pointer + "/inputs",
                        "the layers form a cycle: " + names);
    }
    return order;
}

// Bytes of a node output in memory: f32, channels rounded up to a 16-lane block.
int64_t tensor_bytes(const Shape& s) {
    return checked_mul(checked_mul(round_up(s.channels, 16), s.batch), checked_mul(s.length, 4));
}

// Buffer reuse (network/): a node's output lives from its producer until its last reader is done (a model
// output until the end), then its buffer serves later nodes. A view (reshape, flatten, dropout) or a folded
// batch normalisation shares its input's buffer and keeps it alive. Returns the most node-output bytes alive
// at once, over the topological order: the sum of the largest set of tensors alive together.
int64_t live_peak(const Plan& plan) {
    const size_t count = plan.tensors.size(), n = plan.layers.size();
    std::vector<size_t> root(count), last(count, 0);
    for (size_t t = 0; t < count; ++t) {
        root[t] = t;
        const TensorInfo& info = plan.tensors[t];
        if (info.producer < 0) continue;
        const LayerPlan& node = plan.layers[static_cast<size_t>(info.producer)];
        const LayerType type = node.spec.type;
        const bool view = type == LayerType::reshape || type == LayerType::flatten || type == LayerType::dropout ||
                          node.folded_into.has_value();
        if (view && node.input_tensors.size() == 1) root[t] = root[static_cast<size_t>(node.input_tensors[0])];
    }
    for (size_t t = 0; t < count; ++t) {
        const TensorInfo& info = plan.tensors[t];
        size_t end = info.producer < 0 ? 0 : static_cast<size_t>(info.producer);
        for (int r : info.readers) end = std::max(end, static_cast<size_t>(r));
        if (std::find(plan.output_tensors.begin(), plan.output_tensors.end(), static_cast<int>(t)) !=
            plan.output_tensors.end())
            end = n;
        last[root[t]] = std::max(last[root[t]], end);
    }
    int64_t peak = 0;
    for (size_t i = 0; i < n; ++i) {
        int64_t alive = 0;
        for (size_t t = 0; t < count; ++t) {
            const TensorInfo& info = plan.tensors[t];
            if (root[t] != t || info.producer < 0) continue;  // views and model inputs (counted apart)
            if (static_cast<size_t>(info.producer) <= i && i <= last[t])
                alive = checked_add(alive, tensor_bytes(info.shape));
        }
        peak = std::max(peak, alive);
    }
    return peak;
}

}  // namespace

bool Plan::is_chain() const {
    if (input_tensors.size() != 1 || output_tensors.size() != 1) return false;
    for (size_t i = 0; i < layers.size(); ++i) {
        const auto& l = layers[i];
        if (l.input_tensors.size() != 1 || l.output_tensors.size() != 1) return false;
        int expected = i == 0 ? input_tensors[0] : layers[i - 1].output_tensors[0];
        if (l.input_tensors[0] != expected) return false;
    }
    return output_tensors[0] == layers.back().output_tensors[0];
}

Plan make_plan(const ConfigSpec& config, const std::vector<Shape>& input_shapes) {
    Plan plan;
    plan.data_format = config.data_format;
    const auto inputs = config.inputs();
    std::map<std::string, int> tensor_by_name;
    for (size_t k = 0; k < inputs.size(); ++k) {
        TensorInfo t{inputs[k]->name, input_shapes.at(k), -1, 0, {}};
        tensor_by_name[t.name] = static_cast<int>(plan.tensors.size());
        plan.input_tensors.push_back(static_cast<int>(plan.tensors.size()));
        plan.tensors.push_back(t);
        const std::string& layout = inputs[k]->layout;
        if (!layout.empty() && layout_rank(layout) != t.shape.rank)
            throw Error(ErrorKind::config,
                        located(config.source, inputs[k]->pointer + "/layout",
                                "axis order \"" + layout + "\" is for a rank-" + std::to_string(layout_rank(layout)) +
                                    " input, but the input is rank " + std::to_string(t.shape.rank)),
                        inputs[k]->pointer + "/layout");
        plan.input_layouts.push_back(effective_layout(layout, t.shape.rank, config.data_format));
    }
    plan.input_shape = input_shapes.at(0);

    // Which config layer each layer reads: -1 for model inputs; names resolved once.
    const size_t n = config.layers.size();
    std::map<std::string, size_t> layer_by_name;
    for (size_t i = 0; i < n; ++i) layer_by_name[config.layers[i].name] = i;
    struct Ref {
        int layer = -1;  // config index, or -1 for a model input
        int output = 0;
        std::string input;  // model input name when layer == -1
    };
    std::vector<std::vector<Ref>> refs(n);
    std::vector<std::vector<int>> reads_node(n);
    for (size_t i = 0; i < n; ++i) {
        const LayerSpec& s = config.layers[i];
        std::vector<std::string> names = s.inputs;
        if (names.empty()) names.push_back(i == 0 ? inputs[0]->name : config.layers[i - 1].name);
        for (size_t k = 0; k < names.size(); ++k) {
            std::string name = names[k];
            int output = 0;
            if (auto colon = name.rfind(':'); colon != std::string::npos && !layer_by_name.count(name)) {
                try {
                    output = std::stoi(name.substr(colon + 1));
                    name = name.substr(0, colon);
                } catch (const std::exception&) {
                }
            }
            Ref ref;
            ref.output = output;
            if (auto it = layer_by_name.find(name); it != layer_by_name.end()) {
                if (it->second == i)
                    fail_layer(config, s, i, "reads its own output", "inputs/" + std::to_string(k));
                ref.layer = static_cast<int>(it->second);
            } else if (tensor_by_name.count(name)) {
                ref.input = name;
            } else {
                std::string known;
                for (const auto* in : inputs) known += (known.empty() ? "" : ", ") + in->name;
                fail_layer(config, s, i,
                           "reads \"" + names[k] + "\", which is neither a layer nor a model input (inputs: " +
                               known + ")",
                           "inputs/" + std::to_string(k));
            }
            refs[i].push_back(ref);
            reads_node[i].push_back(ref.layer);
        }
        const LayerKind& kind = kind_of(s.type);
        const int count = static_cast<int>(refs[i].size());
        if (count < kind.min_inputs || (kind.max_inputs >= 0 && count > kind.max_inputs))
            fail_layer(config, s, i,
                       "reads " + std::to_string(count) + " tensor" + (count == 1 ? "" : "s") + " but takes " +
                           (kind.max_inputs < 0 ? "at least " + std::to_string(kind.min_inputs)
                                                : std::to_string(kind.min_inputs)),
                       "inputs");
    }
    std::vector<size_t> order = topological_order(config, reads_node);

    const PlanContext context{config.data_format, config.source};
    std::vector<int> node_of_layer(n, -1);
    int64_t bytes = 0;
    for (int t : plan.input_tensors) bytes = checked_add(bytes, checked_mul(plan.tensors[t].shape.elements(), 2 * 4));
    int64_t scratch = 0;
    std::vector<std::optional<double>> jump(plan.tensors.size(), 1.0);
    std::vector<bool> rf_defined(plan.tensors.size(), true);
    for (size_t i : order) {
        const LayerSpec& s = config.layers[i];
        const size_t index = plan.layers.size();
        LayerPlan layer;
        layer.index = index;
        layer.spec = s;
        for (const Ref& ref : refs[i]) {
            int tensor = -1;
            if (ref.layer < 0) {
                tensor = tensor_by_name.at(ref.input);
            } else {
                const LayerPlan& producer = plan.layers[static_cast<size_t>(node_of_layer[ref.layer])];
                if (ref.output < 0 || static_cast<size_t>(ref.output) >= producer.output_tensors.size())
                    fail_layer(config, s, index,
                               "reads output " + std::to_string(ref.output) + " of '" + producer.spec.name +
                                   "', which has " + std::to_string(producer.output_tensors.size()),
                               "inputs");
                tensor = producer.output_tensors[static_cast<size_t>(ref.output)];
            }
            layer.input_tensors.push_back(tensor);
            layer.input_names.push_back(plan.tensors[static_cast<size_t>(tensor)].name);
            layer.input_shapes.push_back(plan.tensors[static_cast<size_t>(tensor)].shape);
        }
        layer.input_shape = layer.input_shapes[0];
        const LayerKind& kind = kind_of(s.type);
        layer.summary = kind.summary(s);
        try {  // a size overflow inside a layer is reported as that layer's
            kind.plan(layer, context);
            if (layer.output_shapes.empty()) layer.output_shapes = {layer.output_shape};
            if (!s.weight_files.empty()) {  // every given file names a variable of the kind
                std::set<std::string> names;
                if (kind.variables)
                    for (const Variable& v : kind.variables(layer)) names.insert(v.name);
                for (const auto& [name, file] : s.weight_files)
                    if (!names.count(name)) {
                        std::string known;
                        for (const auto& k : names) known += (known.empty() ? "" : ", ") + k;
                        throw LayerError{"has no weight variable \"" + name + "\"" +
                                             (known.empty() ? " (it has no weights)" : " (its variables: " + known + ")"),
                                         "weights/" + name};
                    }
            }
            // A shared layer's repeated calls use its weights: Keras counts them once.
            if (kind.variables && s.shared_with.empty())
                for (const Variable& v : kind.variables(layer)) layer.params = checked_add(layer.params, v.elements());
            bytes = checked_add(bytes, checked_mul(layer.params, 2 * 4));
            scratch = std::max(scratch, scratch_estimate(layer));
            plan.total_params = checked_add(plan.total_params, layer.params);
            plan.total_flops = checked_add(plan.total_flops, layer.flops);
        } catch (const LayerError& e) {
            fail_layer(config, s, index, e.message, e.key);
        } catch (const Error& e) {
            if (!e.pointer().empty()) throw;  // already names its layer
            fail_layer(config, s, index, e.what());
        }
        // Receptive field and jump: defined while no path mixes length and channels; the jump only where
        // every path agrees.
        bool defined = !(kind.mixes_axes && kind.mixes_axes(layer));
        const std::optional<double>& first_jump = jump[static_cast<size_t>(layer.input_tensors[0])];
        bool jumps_agree = first_jump.has_value();
        const double in_jump = first_jump.value_or(0.0);
        for (int t : layer.input_tensors) {
            defined = defined && rf_defined[static_cast<size_t>(t)];
            const std::optional<double>& other = jump[static_cast<size_t>(t)];
            if (!other || *other != in_jump) jumps_agree = false;
        }
        for (size_t k = 0; k < layer.output_shapes.size(); ++k) {
            TensorInfo t{k == 0 ? s.name : s.name + ":" + std::to_string(k), layer.output_shapes[k],
                         static_cast<int>(index), static_cast<int>(k), {}};
            layer.output_tensors.push_back(static_cast<int>(plan.tensors.size()));
            plan.tensors.push_back(t);
            jump.push_back(jumps_agree ? std::optional<double>(next_jump(in_jump, layer)) : std::nullopt);
            rf_defined.push_back(defined);
        }
        for (int t : layer.input_tensors) plan.tensors[static_cast<size_t>(t)].readers.push_back(static_cast<int>(index));
        node_of_layer[i] = static_cast<int>(index);
        plan.layers.push_back(std::move(layer));
        LayerPlan& added = plan.layers.back();
        if (defined) {
            added.receptive_field = receptive_field(plan, index);
            added.jump = jump[static_cast<size_t>(added.output_tensors[0])];
        }
    }

    // A shared layer's further calls use its weights: they must read inputs that give the same weight shapes.
    for (const LayerPlan& call : plan.layers) {
        const LayerKind& kind = kind_of(call.spec.type);
        if (call.spec.shared_with.empty() || !kind.variables) continue;
        auto owner = std::find_if(plan.layers.begin(), plan.layers.end(), [&](const LayerPlan& l) {
            return l.spec.name == call.spec.shared_with && l.spec.shared_with.empty();
        });
        if (owner == plan.layers.end()) continue;
        const std::vector<Variable> mine = kind.variables(call), theirs = kind.variables(*owner);
        for (size_t v = 0; v < mine.size() && v < theirs.size(); ++v)
            if (mine[v].shape != theirs[v].shape)
                fail_layer(config, call.spec, call.index,
                           "calls shared layer '" + owner->spec.name + "' (built for input " +
                               shape_text(owner->input_shape, config.data_format) + ", " + theirs[v].name + " " +
                               dims_words(theirs[v].shape) + ") on input '" + call.input_names[0] + "' of shape " +
                               shape_text(call.input_shape, config.data_format) + ", which needs " + mine[v].name +
                               " " + dims_words(mine[v].shape),
                           "inputs");
    }
    for (size_t k = 0; k < inputs.size(); ++k)
        if (plan.tensors[static_cast<size_t>(plan.input_tensors[k])].readers.empty())
            plan.warnings.push_back(located(config.source, inputs[k]->pointer,
                                            "model input '" + inputs[k]->name + "' is not read by any layer"));

    // Outputs: as the config names them, else the last layer.
    if (config.outputs.empty()) {
        plan.output_tensors.push_back(plan.layers.back().output_tensors[0]);
        if (plan.layers.back().spec.type == LayerType::bidirectional && plan.layers.back().spec.merge_mode == "none")
            plan.output_tensors.push_back(plan.layers.back().output_tensors[1]);
    }
    for (size_t k = 0; k < config.outputs.size(); ++k) {
        auto it = std::find_if(plan.tensors.begin(), plan.tensors.end(),
                               [&](const TensorInfo& t) { return t.name == config.outputs[k] && t.producer >= 0; });
        if (it == plan.tensors.end())
            throw Error(ErrorKind::config,
                        config.source + ": /outputs/" + std::to_string(k) + ": \"" + config.outputs[k] +
                            "\" is not a layer of the model",
                        "/outputs/" + std::to_string(k));
        plan.output_tensors.push_back(static_cast<int>(it - plan.tensors.begin()));
        const std::string layout = k < config.output_layouts.size() ? config.output_layouts[k] : "";
        const std::string pointer = "/outputs/" + std::to_string(k) + "/layout";
        if (!layout.empty() && layout_rank(layout) != it->shape.rank)
            throw Error(ErrorKind::config,
                        config.source + ": " + pointer + ": axis order \"" + layout + "\" is for a rank-" +
                            std::to_string(layout_rank(layout)) + " output, but \"" + it->name + "\" is rank " +
                            std::to_string(it->shape.rank) + " " + shape_text(it->shape, config.data_format),
                        pointer);
    }
    for (size_t k = 0; k < plan.output_tensors.size(); ++k) {
        const std::string layout = k < config.output_layouts.size() ? config.output_layouts[k] : "";
        plan.output_layouts.push_back(
            effective_layout(layout, plan.tensors[static_cast<size_t>(plan.output_tensors[k])].shape.rank, config.data_format));
    }
    plan.output_shape = plan.tensors[static_cast<size_t>(plan.output_tensors[0])].shape;
    // A batch normalisation that is the only reader of a linear conv or dense folds into its weights.
    for (auto& bn : plan.layers) {
        if (bn.spec.type != LayerType::batch_normalization) continue;
        const TensorInfo& t = plan.tensors[static_cast<size_t>(bn.input_tensors[0])];
        if (t.producer < 0 || t.readers.size() != 1) continue;
        const LayerPlan& conv = plan.layers[static_cast<size_t>(t.producer)];
        const LayerType type = conv.spec.type;
        const bool foldable = type == LayerType::conv1d || type == LayerType::conv1d_transpose ||
                              type == LayerType::dense || type == LayerType::separable_conv1d;
        bool shared = !conv.spec.shared_with.empty();
        for (const auto& other : plan.layers) shared |= other.spec.shared_with == conv.spec.name;
        const bool is_output = std::find(plan.output_tensors.begin(), plan.output_tensors.end(),
                                         bn.input_tensors[0]) != plan.output_tensors.end();
        if (!foldable || shared || is_output || conv.output_tensors.size() != 1 ||
            conv.spec.activation.fn != Activation::linear)
            continue;
        bn.folded_into = conv.index;
        bn.summary += (bn.summary.empty() ? "" : " ") + std::string("folded into layer ") + std::to_string(conv.index);
    }
    for (int t : plan.output_tensors)  // the user-layout copy of each output
        bytes = checked_add(bytes, checked_mul(plan.tensors[static_cast<size_t>(t)].shape.elements(), 4));
    plan.live_tensor_bytes = live_peak(plan);
    plan.memory_bytes = checked_add(checked_add(bytes, plan.live_tensor_bytes), scratch);
    return plan;
}

std::string shape_text(const Shape& shape, DataFormat format) {
    std::vector<int64_t> d = user_dims(shape, format);
    std::string s = "(";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + ")";
}

std::string layout_shape_text(const Shape& shape, const std::string& layout) {
    std::vector<int64_t> d = layout_dims(shape, layout);
    std::string s = "(";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + ")";
}

std::string shape_text_x(const Shape& shape, DataFormat format) {
    std::vector<int64_t> d = user_dims(shape, format);
    std::string s;
    for (size_t i = 0; i < d.size(); ++i) s += (i ? "x" : "") + std::to_string(d[i]);
    return s;
}

std::string benchdnn_descriptor(const LayerPlan& layer) {
    const LayerSpec& s = layer.spec;
    const Shape& in = layer.input_shape;
    const Shape& out = layer.output_shape;
    std::ostringstream d;
    switch (s.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose: {
            // A padding_mode other than zeros runs the conv without padding over the padded copy.
            const bool filled = s.padding_mode != PaddingMode::zeros;
            const int64_t iw = filled ? in.length + layer.padding->first + layer.padding->second : in.length;
            if (s.groups > 1) d << "g" << s.groups;
            d << "mb" << in.batch << "ic" << in.channels << "iw" << iw << "oc" << out.channels << "ow"
              << out.length << "kw" << s.kernel_size << "sw" << s.strides;
            if (s.dilation_rate > 1) d << "dw" << s.dilation_rate - 1;
            d << "pw" << (filled ? 0 : layer.padding->first);
            break;
        }
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            d << "mb" << in.batch << "ic" << in.channels << "iw" << in.length << "ow" << out.length << "kw"
              << s.pool_size << "sw" << s.strides;
            if (s.dilation_rate > 1) d << "dw" << s.dilation_rate - 1;
            d << "pw" << layer.padding->first;
            break;
        default: break;
    }
    return d.str();
}

}  // namespace c1r
