// ONNX → config: the values and their axes, the helpers the operator mappings share, and the driver. The
// shape-only operators are in onnx_shape.cpp, the layer operators in onnx_ops.cpp, onnx_act.cpp, onnx_rnn.cpp.
#include "import/onnx.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "import/onnx_lower.hpp"
#include "layers/layout.hpp"

namespace c1r {
namespace onnx_import {

Lowerer::Lowerer(const OnnxGraph& g, std::string src, std::optional<int64_t> batch)
    : graph(g), source(std::move(src)), batch_(batch) {
    for (const auto& n : graph.nodes) {
        for (const auto& i : n.inputs)
            if (!i.empty()) ++readers_[i];
        for (const auto& o : n.outputs)
            if (!o.empty()) producers_[o] = &n;
    }
    for (const auto& o : graph.outputs) {
        model_outputs_.insert(o.name);
        ++readers_[o.name];
    }
}

int64_t Lowerer::norm_axis(int64_t axis, size_t rank) {
    int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) throw Unsupported{"axis " + std::to_string(axis) + " is outside a rank-" + std::to_string(r) + " tensor"};
    return axis < 0 ? axis + r : axis;
}

const Value& Lowerer::in(const OnnxNode& n, size_t k) const {
    if (!has(n, k)) throw Unsupported{"input " + std::to_string(k) + " is missing"};
    auto it = values_.find(n.inputs[k]);
    if (it == values_.end()) throw Unsupported{"input \"" + n.inputs[k] + "\" has no value"};
    return it->second;
}
const Value& Lowerer::tensor_in(const OnnxNode& n, size_t k) const {
    const Value& v = in(n, k);
    if (v.is_const) throw Unsupported{"input " + std::to_string(k) + " is a constant where a tensor of the model is expected"};
    return v;
}
const Value& Lowerer::const_in(const OnnxNode& n, size_t k) const {
    const Value& v = in(n, k);
    if (!v.is_const) throw Unsupported{"input " + std::to_string(k) + " (\"" + n.inputs[k] + "\") must be a constant"};
    return v;
}
bool Lowerer::used(const OnnxNode& n, size_t k) const {
    return k < n.outputs.size() && !n.outputs[k].empty() && readers(n.outputs[k]) > 0;
}
const OnnxNode* Lowerer::only_reader(const std::string& value) const {
    if (readers(value) != 1) return nullptr;
    for (const auto& m : graph.nodes)
        for (const auto& i : m.inputs)
            if (i == value) return m.outputs.empty() || m.outputs[0].empty() ? nullptr : &m;
    return nullptr;
}

int Lowerer::readers(const std::string& value) const {
    auto it = readers_.find(value);
    return it == readers_.end() ? 0 : it->second;
}
const OnnxNode* Lowerer::producer(const std::string& value) const {
    auto it = producers_.find(value);
    return it == producers_.end() ? nullptr : it->second;
}

int64_t Lowerer::attr_i(const OnnxNode& n, const std::string& name, int64_t fallback) const {
    auto it = n.attrs.find(name);
    return it != n.attrs.end() && it->second.kind == OnnxAttr::Kind::i ? it->second.i : fallback;
}
double Lowerer::attr_f(const OnnxNode& n, const std::string& name, double fallback) const {
    auto it = n.attrs.find(name);
    return it != n.attrs.end() && it->second.kind == OnnxAttr::Kind::f ? it->second.f : fallback;
}
std::string Lowerer::attr_s(const OnnxNode& n, const std::string& name, const std::string& fallback) const {
    auto it = n.attrs.find(name);
    return it != n.attrs.end() && it->second.kind == OnnxAttr::Kind::s ? it->second.s : fallback;
}
std::vector<int64_t> Lowerer::attr_ints(const OnnxNode& n, const std::string& name, std::vector<int64_t> fallback) const {
    auto it = n.attrs.find(name);
    return it != n.attrs.end() && it->second.kind == OnnxAttr::Kind::ints ? it->second.ints : fallback;
}
void Lowerer::only_attrs(const OnnxNode& n, const std::set<std::string>& known) const {
    for (const auto& [name, _] : n.attrs)
        if (!known.count(name)) throw Unsupported{"attribute " + name + " is not supported"};
}

std::string Lowerer::unique(std::string name) {
    if (name.empty()) name = "node";
    std::string candidate = name;
    for (int k = 2; names_.count(candidate); ++k) candidate = name + "_" + std::to_string(k);
    names_.insert(candidate);
    return candidate;
}

std::string Lowerer::add_layer(const OnnxNode& n, json layer, const std::vector<std::string>& inputs,
                               const std::string& suffix) {
    std::string name = unique(n.name + suffix);
    json entry = {{"name", name}};
    entry.update(layer);
    entry["inputs"] = inputs;
    layers_.push_back(std::move(entry));
    return name;
}

void Lowerer::add_weight(const std::string& layer, const std::string& var, std::vector<int64_t> shape,
                         std::vector<float> values) {
    weights_[layer][var] = WeightArray{std::move(shape), std::move(values)};
}

void Lowerer::set_tensor(const std::string& name, const std::string& ref, std::vector<int64_t> dims, std::string roles,
                         int rank) {
    Value v;
    v.ref = ref;
    v.dims = std::move(dims);
    v.roles = std::move(roles);
    v.rank = rank;
    values_[name] = std::move(v);
}

void Lowerer::set_const(const std::string& name, std::vector<int64_t> dims, std::vector<double> data, bool integer) {
    Value v;
    v.is_const = true;
    v.dims = std::move(dims);
    v.data = std::move(data);
    v.integer = integer;
    values_[name] = std::move(v);
}

Value Lowerer::canonical(const OnnxNode& n, const Value& v, bool rank3) {
    if (v.is_const) throw Unsupported{"a constant where a tensor of the model is expected"};
    if (v.roles.find('D') != std::string::npos)
        throw Unsupported{"reads a bidirectional RNN output before its direction axis is merged into the features"};
    if (v.dims.empty() || v.roles[0] != 'B')
        throw Unsupported{"needs the batch axis first; this tensor's axes are (" + v.roles + ") in our terms"};
    if (v.dims.size() != 2 && v.dims.size() != 3)
        throw Unsupported{"reads a rank-" + std::to_string(v.dims.size()) + " tensor (rank 2 or 3 is supported)"};
    if (rank3 && v.dims.size() != 3) throw Unsupported{"expects an (N, C, L) input, got rank " + std::to_string(v.dims.size())};
    std::string stripped;
    for (char r : v.roles)
        if (r != '1') stripped += r;
    Value out = v;
    if (stripped == "BLC") {  // our channels are the later ONNX axis: swap our axes
        out.ref = add_layer(n, {{"type", "permute"}, {"dims", {2, 1}}}, {v.ref}, "/permute");
        for (char& r : out.roles) r = r == 'L' ? 'C' : r == 'C' ? 'L' : r;
    } else if (stripped != "BCL" && stripped != "BC") {
        throw Unsupported{"cannot map its input's axes (" + v.roles + ")"};
    }
    const bool same = (v.dims.size() == 3 && out.roles == "BCL" && out.rank == 3) ||
                      (v.dims.size() == 2 && out.roles == "BC" && out.rank == 2);
    if (!same) {  // size-1 axes differ: our tensor holds the same values in the same order; reshape it
        std::vector<int64_t> target(v.dims.begin() + 1, v.dims.end());
        out.ref = add_layer(n, {{"type", "reshape"}, {"target_shape", target}}, {out.ref}, "/reshape");
        out.rank = static_cast<int>(v.dims.size());
        out.roles = v.dims.size() == 3 ? "BCL" : "BC";
    }
    return out;
}

bool Lowerer::direct(const Value& v) {
    return !v.is_const && (v.dims.size() == 2 || v.dims.size() == 3) && static_cast<int>(v.dims.size()) == v.rank &&
           v.roles[0] == 'B' && v.roles.find('1') == std::string::npos && v.roles.find('D') == std::string::npos;
}

Value Lowerer::channels_at(const OnnxNode& n, const Value& v, int64_t axis) {
    Value c = direct(v) ? v : canonical(n, v);
    axis = norm_axis(axis, c.dims.size());
    if (axis == 0) throw Unsupported{"works on the batch axis"};
    if (c.roles[static_cast<size_t>(axis)] == 'C') return c;
    Value out = c;  // axis is our length: swap
    out.ref = add_layer(n, {{"type", "permute"}, {"dims", {2, 1}}}, {c.ref}, "/permute_in");
    for (char& r : out.roles) r = r == 'L' ? 'C' : r == 'C' ? 'L' : r;
    return out;
}

// A rank-3 graph input read only as X of sequence-first RNNs (LSTM/GRU layout 0) holds (seq, batch, features):
// its axes are (L, B, C), which the config gives as the input's axis order.
namespace {
bool sequence_first_input(const OnnxGraph& graph, const std::string& name) {
    bool read = false;
    for (const auto& n : graph.nodes)
        for (size_t k = 0; k < n.inputs.size(); ++k) {
            if (n.inputs[k] != name) continue;
            auto layout = n.attrs.find("layout");
            const bool rnn_x = (n.op == "LSTM" || n.op == "GRU") && k == 0 &&
                               (n.domain.empty() || n.domain == "ai.onnx") &&
                               (layout == n.attrs.end() || (layout->second.kind == OnnxAttr::Kind::i && layout->second.i == 0));
            if (!rnn_x) return false;
            read = true;
        }
    for (const auto& o : graph.outputs)
        if (o.name == name) return false;
    return read;
}
}  // namespace

std::string Lowerer::output_layout(const Value& v) {
    if (v.is_const || v.roles.size() != v.dims.size()) return "";
    if (!v.roles.empty() && v.roles[0] == 'B' && v.dims.size() <= 3) return "";  // canonical() writes it
    if (!layout_problem(v.roles).empty() || layout_rank(v.roles) != v.rank) return "";  // canonical() says why not
    return v.roles;
}

void Lowerer::add_inputs(json& config) {
    json inputs = json::object();
    for (const auto& i : graph.inputs) {
        if (!i.has_shape) throw Error(ErrorKind::config, source + ": input \"" + i.name + "\": has no shape");
        std::vector<int64_t> dims = i.dims;
        if (dims.size() != 2 && dims.size() != 3)
            throw Error(ErrorKind::config, source + ": input \"" + i.name + "\": rank " + std::to_string(dims.size()) +
                                               " is not supported ((N, C, L) or (N, F))");
        const std::string roles = dims.size() == 2 ? "BC" : sequence_first_input(graph, i.name) ? "LBC" : "BCL";
        const size_t batch_axis = roles.find('B');
        if (dims[batch_axis] < 0) dims[batch_axis] = batch_.value_or(1);
        for (size_t k = 0; k < dims.size(); ++k)
            if (dims[k] < 1)
                throw Error(ErrorKind::config, source + ": input \"" + i.name + "\": dimension " + std::to_string(k) +
                                                   " is " + (dims[k] < 0 ? "symbolic" : "0") +
                                                   "; export the model with fixed lengths (no dynamic_axes but the batch)");
        if (names_.count(i.name)) throw Error(ErrorKind::config, source + ": input \"" + i.name + "\": named twice");
        names_.insert(i.name);
        inputs[i.name] = {{"shape", dims}};
        if (roles == "LBC") inputs[i.name]["layout"] = roles;
        set_tensor(i.name, i.name, dims, roles, static_cast<int>(dims.size()));
    }
    if (inputs.empty()) throw Error(ErrorKind::config, source + ": the graph has no input besides its initializers");
    config["inputs"] = inputs;
}

void Lowerer::lower(const OnnxNode& n) {
    if (!n.domain.empty() && n.domain != "ai.onnx") throw Unsupported{"domain " + n.domain + " is not supported"};
    // An RNN may leave out Y and give only its final state Y_h; every other op's first output is its result.
    const bool rnn = n.op == "LSTM" || n.op == "GRU";
    if (n.outputs.empty() || (n.outputs[0].empty() && !(rnn && n.outputs.size() > 1 && !n.outputs[1].empty())))
        throw Unsupported{"has no output"};
    if (n.inputs.empty() && n.op != "Constant") throw Unsupported{"has no input"};
    bool all_const = !n.inputs.empty() || n.op == "Constant";
    for (size_t k = 0; k < n.inputs.size(); ++k)
        if (has(n, k) && !in(n, k).is_const) all_const = false;
    if (n.op == "Shape") {
        const Value& v = in(n, 0);
        int64_t r = static_cast<int64_t>(v.dims.size());
        int64_t start = attr_i(n, "start", 0), end = attr_i(n, "end", r);
        if (start < 0) start += r;
        if (end < 0) end += r;
        start = std::clamp<int64_t>(start, 0, r);
        end = std::clamp<int64_t>(end, start, r);
        std::vector<double> d(v.dims.begin() + start, v.dims.begin() + end);
        set_const(n.outputs[0], {end - start}, d, true);
        return;
    }
    if (all_const && fold_constant(*this, n)) return;
    if (lower_shape_op(*this, n) || lower_layer_op(*this, n) || lower_rnn_op(*this, n)) return;
    throw Unsupported{"operator not supported"};
}

std::pair<json, NamedWeights> Lowerer::run() {
    json config = json::object();
    config["data_format"] = "channels_first";
    add_inputs(config);
    for (const auto& [name, t] : graph.initializers)
        if (!values_.count(name)) set_const(name, t.dims, t.values, t.integer);
    std::vector<std::string> problems;
    // Constants first (they read nothing): patterns that look ahead (F.gelu's erf form) then see their values.
    std::vector<const OnnxNode*> order;
    for (const auto& n : graph.nodes)
        if (n.op == "Constant" && n.inputs.empty()) order.push_back(&n);
    for (const auto& n : graph.nodes)
        if (!(n.op == "Constant" && n.inputs.empty())) order.push_back(&n);
    for (const OnnxNode* np : order) {
        const OnnxNode& n = *np;
        if (skipped_.count(n.index)) continue;
        bool poisoned = false;
        for (const auto& i : n.inputs) poisoned = poisoned || poisoned_.count(i);
        try {
            if (poisoned) throw Unsupported{""};
            lower(n);
            for (const auto& o : n.outputs)
                if (!o.empty() && !values_.count(o) && readers(o) > 0)
                    throw Unsupported{"output \"" + o + "\" is not supported"};
        } catch (const Unsupported& u) {
            if (!u.why.empty() || !poisoned) problems.push_back("node " + n.name + " (" + n.op + "): " + u.why);
            for (const auto& o : n.outputs) poisoned_.insert(o);
        } catch (const std::exception& e) {  // a malformed node (an index past its inputs, ...)
            problems.push_back("node " + n.name + " (" + n.op + "): malformed (" + e.what() + ")");
            for (const auto& o : n.outputs) poisoned_.insert(o);
        }
    }
    json outputs = json::array();
    for (const auto& o : graph.outputs) {
        if (poisoned_.count(o.name)) continue;
        OnnxNode at;
        at.name = o.name;
        at.op = "output";
        try {
            auto it = values_.find(o.name);
            if (it == values_.end()) throw Unsupported{"has no value"};
            if (it->second.is_const) throw Unsupported{"is a constant"};
            // Batch first and rank 2 or 3: written in (N, C, L) / (N, F) order (a permute or reshape where ours
            // differs). Else the output's axis order is its ONNX one (layout, e.g. (C, B, L) or (B, L, 1, C)).
            const std::string layout = output_layout(it->second);
            Value v = layout.empty() ? canonical(at, it->second) : it->second;
            bool is_input = false;
            for (const auto& i : graph.inputs) is_input = is_input || i.name == v.ref;
            if (is_input) v.ref = add_layer(at, {{"type", "dropout"}, {"rate", 0.0}}, {v.ref}, "/identity");
            if (layout.empty()) outputs.push_back(v.ref);
            else outputs.push_back({{"name", v.ref}, {"layout", layout}});
        } catch (const Unsupported& u) {
            problems.push_back("output " + o.name + ": " + u.why);
        }
    }
    if (!problems.empty()) {
        std::string message = std::to_string(problems.size()) + " ONNX node" + (problems.size() == 1 ? "" : "s") +
                               " cannot be mapped:";
        for (const auto& p : problems) message += "\n  " + p;
        throw Error(ErrorKind::config, source + ": " + message);
    }
    if (layers_.empty()) throw Error(ErrorKind::config, source + ": the graph has no operator to run");
    config["layers"] = layers_;
    config["outputs"] = outputs;
    return {config, weights_};
}

}  // namespace onnx_import

bool is_onnx_model_file(const std::string& path) {
    if (path.size() < 5) return false;
    std::string ext = path.substr(path.size() - 5);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".onnx";
}

OnnxModelFile read_onnx_model_file(const std::string& path, const std::string& source, std::optional<int64_t> batch) {
    return onnx_graph_to_config(parse_onnx_model(read_onnx_bytes(path, source), source), source, batch);
}

OnnxModelFile onnx_graph_to_config(const OnnxGraph& graph, const std::string& source, std::optional<int64_t> batch) {
    onnx_import::Lowerer lowerer(graph, source, batch);
    auto [config, weights] = lowerer.run();
    return {std::move(config), std::move(weights)};
}

}  // namespace c1r
