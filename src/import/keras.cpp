// Keras model.to_json() import (Keras 1, 2, 3 and TensorFlow.js topologies): Sequential and Functional models,
// with branches, merges, several inputs and outputs, shared layers and nested models, become a config in our
// own format (SPEC §3, §7). Each layer maps through the kind table (layers/kind.hpp): its Keras class names
// the kind, its keys are translated (Keras 1 names, dropped training-only settings) and read by the kind's
// own reader. Every layer that cannot be mapped is listed at once, each with index, name, class and pointer.
#include "import/keras.hpp"

#include "import/keras_parts.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "layers/kind.hpp"
#include "model/spec.hpp"

namespace c1r {
namespace {

using nlohmann::json;
using namespace keras_import;

constexpr int64_t kMaxSetting = int64_t{1} << 31;  // the config parser's bound for any layer setting

std::string describe(const json& value) {
    std::string text = value.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}


// A Keras shape, None written as "None" as Keras prints it.
std::string shape_text(const std::vector<std::optional<int64_t>>& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + (shape[i] ? std::to_string(*shape[i]) : std::string("None"));
    return out + ")";
}


struct Layer {
    size_t index = 0;
    std::string pointer;
    std::string class_name, name;
    const json* entry = nullptr;
    const json* config = nullptr;
    std::string label() const { return "layer " + std::to_string(index) + " '" + name + "' (" + class_name + ")"; }
};

class Importer {
public:
    Importer(const json& model, const std::string& source, const KerasImportOptions& options)
        : model_(model), source_(source), options_(options) {}

    json convert() {
        if (!model_.is_object() || !model_.contains("config"))
            fail("/config", "missing: a Keras model.to_json() text has \"class_name\" and \"config\"");
        if (auto v = model_.find("keras_version"); v != model_.end() && v->is_string()) version_ = v->get<std::string>();
        // Keras 1 and 2 (and TF.js, which follows Keras 2) differ from Keras 3 in hard_sigmoid and RNN defaults.
        keras2_ = version_.empty() ? !is_keras3_document(model_) : version_[0] != '3';
        find_data_format(model_, "");
        std::vector<std::string> outs = emit_model(model_, "", std::nullopt);
        if (!problems_.empty()) {
            std::string message = std::to_string(problems_.size()) + " layer" + (problems_.size() == 1 ? "" : "s") +
                                  " cannot be mapped:";
            for (const auto& p : problems_) message += "\n  " + p;
            throw Error(ErrorKind::config, source_ + ": " + message, first_problem_pointer_);
        }
        json config = json::object();
        const json& mc = model_["config"];
        if (mc.is_object() && mc.contains("name") && mc["name"].is_string()) config["name"] = mc["name"];
        config["data_format"] = data_format_ == DataFormat::channels_first ? "channels_first" : "channels_last";
        if (inputs_.size() == 1 && inputs_.begin().key() == "input") config["input"] = inputs_["input"];
        else config["inputs"] = inputs_;
        config["layers"] = layers_;
        if (!(outs.size() == 1 && !layers_.empty() && layers_.back()["name"] == outs[0])) config["outputs"] = outs;
        return config;
    }

    [[noreturn]] void fail(const std::string& pointer, const std::string& why) const {
        throw Error::at(ErrorKind::config, source_, pointer, why);
    }

private:
    const json& model_;
    const std::string& source_;
    const KerasImportOptions& options_;
    std::string version_;
    bool keras2_ = false;
    DataFormat data_format_ = DataFormat::channels_last;
    std::optional<std::string> seen_format_;
    json inputs_ = json::object();
    json layers_ = json::array();
    std::set<std::string> names_;
    std::map<std::string, std::vector<std::string>> calls_;  // Keras layer name -> our tensor name per call
    std::set<std::string> nested_models_;
    size_t repeat_call_ = 0;  // > 0 while a nested model's layers are emitted for its call number repeat_call_
    std::map<std::string, std::string> first_layer_;  // a Keras layer -> our layer of its first call
    const json* sequential_model_ = nullptr;  // the Sequential model being emitted  // nested models whose node 0 is their own construction
    std::vector<std::string> problems_;
    std::string first_problem_pointer_;
    size_t counter_ = 0;

    static bool is_keras3_document(const json& m) {
        // Keras 3 writes "module" and "registered_name" beside class_name.
        return m.contains("module") || m.dump().find("\"registered_name\"") != std::string::npos;
    }

    void problem(const std::string& pointer, const std::string& text, const std::string& key_pointer = {}) {
        if (problems_.empty()) first_problem_pointer_ = key_pointer.empty() ? pointer : key_pointer;
        const std::string line = text + " at " + pointer;
        if (std::find(problems_.begin(), problems_.end(), line) == problems_.end()) problems_.push_back(line);
    }

    // One data format for the whole model: Keras layers may each name theirs.
    void find_data_format(const json& value, const std::string& pointer) {
        if (value.is_object()) {
            auto it = value.find("data_format");
            if (it != value.end() && it->is_string()) {
                const std::string f = it->get<std::string>();
                if (f != "channels_last" && f != "channels_first")
                    fail(pointer + "/data_format", "data_format " + describe(*it) +
                                                       " cannot be mapped (expected channels_last or channels_first)");
                if (seen_format_ && *seen_format_ != f)
                    fail(pointer + "/data_format", "layers disagree on data_format (" + *seen_format_ + " and " + f +
                                                       "); conv1d-reshape runs a model in one data format");
                seen_format_ = f;
                if (f == "channels_first") data_format_ = DataFormat::channels_first;
            }
            for (const auto& [k, v] : value.items())
                if (k != "data_format") find_data_format(v, pointer + "/" + escape_pointer_token(k));
        } else if (value.is_array()) {
            for (size_t i = 0; i < value.size(); ++i) find_data_format(value[i], pointer + "/" + std::to_string(i));
        }
    }

    std::string unique(const std::string& base) {
        std::string name = base.empty() ? "layer" : base;
        for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
        names_.insert(name);
        return name;
    }

    // A model input from a Keras shape (None entries filled by --batch/--length, or by --input's file).
    std::string declare_input(const std::string& name, const json& raw, const std::string& pointer) {
        if (!raw.is_array()) fail(pointer, "expected a shape list, got " + describe(raw));
        std::vector<std::optional<int64_t>> shape;
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i].is_null()) shape.push_back(std::nullopt);
            else if (raw[i].is_number_integer() && raw[i].get<int64_t>() >= 1 && raw[i].get<int64_t>() <= kMaxSetting)
                shape.push_back(raw[i].get<int64_t>());
            else fail(pointer + "/" + std::to_string(i), "expected a positive integer or null, got " + describe(raw[i]));
        }
        if (shape.size() != 2 && shape.size() != 3)
            fail(pointer, "input shape " + shape_text(shape) + " has rank " + std::to_string(shape.size()) +
                              "; conv1d-reshape takes (batch, steps, channels) or (batch, features)");
        const bool cf = data_format_ == DataFormat::channels_first && shape.size() == 3;
        const size_t length_axis = cf ? 2 : 1;
        if (shape.size() == 3 && !shape[cf ? 1 : 2])
            fail(pointer + "/" + std::to_string(cf ? 1 : 2),
                 "the channel count is None in input shape " + shape_text(shape) + "; conv1d-reshape needs a fixed number of channels");
        json input = json::object();
        const bool only_file = !options_.input_file.empty() && std::filesystem::exists(options_.input_file);
        if (options_.batch && shape[0] && *shape[0] != *options_.batch)
            fail(pointer + "/0", "--batch " + std::to_string(*options_.batch) + " differs from the model's fixed batch " +
                                     std::to_string(*shape[0]) + " in input shape " + shape_text(shape));
        if (!shape[0]) shape[0] = options_.batch.value_or(1);
        if (shape.size() == 3 || !shape[1]) {
            const size_t axis = shape.size() == 3 ? length_axis : 1;
            if (options_.length && shape[axis] && *shape[axis] != *options_.length)
                fail(pointer + "/" + std::to_string(axis), "--length " + std::to_string(*options_.length) +
                                                               " differs from the model's fixed length " +
                                                               std::to_string(*shape[axis]) + " in input shape " + shape_text(shape));
            if (!shape[axis]) shape[axis] = options_.length;
            if (!shape[axis] && !only_file)
                fail(pointer + "/" + std::to_string(axis),
                     "length is None: give --length N or --input FILE (input shape " + shape_text(shape) + ")");
        }
        // A fully known (batch, features) input keeps its shape: that rank-2 shape is what tells the run to read a
        // 2-D file as (batch, features), e.g. an embedding's integer ids, not as one (steps, channels) sequence.
        const bool known_rank2 = shape.size() == 2 && shape[0] && shape[1];
        if (only_file && inputs_.empty() && !known_rank2) {
            input["file"] = options_.input_file;
        } else {
            json dims = json::array();
            for (auto& d : shape) dims.push_back(*d);
            input["shape"] = dims;
        }
        // With --input, the file's shape fills the model's None dims; --batch/--length, when given, must agree.
        if (only_file && inputs_.empty() && (options_.batch || options_.length) &&
            std::all_of(shape.begin(), shape.end(), [](auto& d) { return d.has_value(); })) {
            json dims = json::array();
            for (auto& d : shape) dims.push_back(*d);
            input["shape"] = dims;
        }
        std::string key = inputs_.empty() && name == "__first__" ? "input" : unique(name);
        inputs_[key] = input;
        return key;
    }

    // The shape a layer states for the model's input (Keras 2 batch_input_shape, Keras 3 batch_shape).
    const json* stated_shape(const json& config, std::string& key) const {
        for (const char* k : {"batch_shape", "batch_input_shape"})
            if (config.contains(k) && !config[k].is_null()) return key = k, &config[k];
        return nullptr;
    }

    std::vector<Layer> read_layers(const json& model, const std::string& base_pointer) {
        const json& config = model["config"];
        const json* list = nullptr;
        std::string base;
        if (config.is_array()) list = &config, base = base_pointer + "/config";
        else if (config.is_object() && config.contains("layers") && config["layers"].is_array())
            list = &config["layers"], base = base_pointer + "/config/layers";
        else fail(base_pointer + "/config", "expected the model's list of layers");
        std::vector<Layer> layers;
        for (size_t i = 0; i < list->size(); ++i) {
            const json& entry = (*list)[i];
            Layer l;
            l.index = counter_++;
            l.pointer = base + "/" + std::to_string(i);
            l.entry = &entry;
            if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string())
                fail(l.pointer, "expected a layer object with \"class_name\", got " + describe(entry));
            l.class_name = entry["class_name"].get<std::string>();
            const bool model_entry = is_model(l.class_name) && entry.contains("config") && entry["config"].is_array();
            if (!model_entry && (!entry.contains("config") || !entry["config"].is_object()))
                fail(l.pointer + "/config", "layer " + std::to_string(i) + " (" + l.class_name + ") has no \"config\" object");
            l.config = &entry["config"];
            if (entry.contains("name") && entry["name"].is_string()) l.name = entry["name"].get<std::string>();
            else if (l.config->is_object() && l.config->contains("name") && (*l.config)["name"].is_string()) l.name = (*l.config)["name"].get<std::string>();
            else l.name = snake_case(l.class_name) + "_" + std::to_string(l.index);
            layers.push_back(l);
        }
        return layers;
    }

    static bool model_has_own_input(const json& entry) {
        const json& c = entry["config"];
        const json& list = c.is_array() ? c : c.is_object() && c.contains("layers") ? c["layers"] : json::array();
        if (list.empty()) return false;
        const json& first = list[0];
        return first.value("class_name", "") == "InputLayer" ||
               (first.contains("config") && first["config"].is_object() &&
                (first["config"].contains("batch_input_shape") || first["config"].contains("batch_shape")));
    }

    static bool is_model(const std::string& cls) { return cls == "Sequential" || cls == "Functional" || cls == "Model"; }

    // Emits a model's layers; `bound` gives the tensors its inputs are (a nested model), or none for the
    // outermost model, whose inputs become the config's. Returns the model's output tensors.
    std::vector<std::string> emit_model(const json& model, const std::string& pointer,
                                        std::optional<std::vector<std::string>> bound) {
        const std::string cls = model["class_name"].get<std::string>();
        std::vector<Layer> layers = read_layers(model, pointer);
        if (layers.empty()) fail(pointer + "/config", "the model has no layers");
        if (cls == "Sequential") {
            sequential_model_ = &model;
            return emit_sequential(layers, bound);
        }
        return emit_functional(model, pointer, layers, bound);
    }

    std::vector<std::string> emit_sequential(const std::vector<Layer>& layers, std::optional<std::vector<std::string>> bound) {
        std::string prev;
        if (bound) prev = bound->at(0);
        for (size_t i = 0; i < layers.size(); ++i) {
            const Layer& l = layers[i];
            if (l.class_name == "InputLayer") {
                if (!bound && prev.empty()) {
                    std::string key;
                    const json* shape = stated_shape(*l.config, key);
                    if (!shape) fail(l.pointer + "/config", l.label() + " has no batch_shape (Keras 3) or batch_input_shape (Keras 2)");
                    prev = declare_input(inputs_.empty() ? "__first__" : l.name, *shape, l.pointer + "/config/" + key);
                }
                continue;
            }
            if (prev.empty() && l.class_name == "Merge" && l.config->contains("layers")) {
                prev = emit_keras1_merge_branches(l);
                continue;
            }
            if (!prev.empty() && is_model(l.class_name)) {  // a nested model: its layers join this one
                prev = emit_model(*l.entry, l.pointer, std::vector<std::string>{prev}).at(0);
                continue;
            }
            if (prev.empty()) {
                std::string key;
                const json* shape = l.config->is_object() ? stated_shape(*l.config, key) : nullptr;
                std::string where = l.pointer + "/config/" + key;
                if (!shape && is_model(l.class_name)) {
                    prev = emit_model(*l.entry, l.pointer, std::nullopt).at(0);
                    continue;
                }
                // Keras 3 keeps a built Sequential's shape in build_input_shape or a layer's build_config.
                const json& mc = sequential_model_->at("config");
                if (!shape && mc.is_object() && mc.contains("build_input_shape") && !mc["build_input_shape"].is_null())
                    shape = &mc["build_input_shape"], where = "/config/build_input_shape";
                for (const json* holder : {l.entry, sequential_model_}) {
                    if (shape) break;
                    auto b = holder->find("build_config");
                    if (b != holder->end() && b->is_object() && b->contains("input_shape") && !(*b)["input_shape"].is_null())
                        shape = &(*b)["input_shape"],
                        where = (holder == l.entry ? l.pointer : std::string()) + "/build_config/input_shape";
                }
                if (!shape) {
                    fail(l.pointer, "the model does not state its input shape (no InputLayer or batch_input_shape); "
                                    "save it from a built model");
                }
                prev = declare_input("__first__", *shape, where);
            }
            prev = emit_layer(l, {prev}, 0);
        }
        return {prev};
    }

    // Keras 1: a Sequential whose first layer is Merge(layers=[branch models], mode=...).
    std::string emit_keras1_merge_branches(const Layer& l) {
        std::vector<std::string> branch_outputs;
        const json& branches = (*l.config)["layers"];
        for (size_t b = 0; b < branches.size(); ++b) {
            const json& branch = branches[b];
            if (!branch.is_object() || !branch.contains("class_name") || !is_model(branch["class_name"].get<std::string>()))
                fail(l.pointer + "/config/layers/" + std::to_string(b), "expected a branch model");
            auto outs = emit_model(branch, l.pointer + "/config/layers/" + std::to_string(b), std::nullopt);
            branch_outputs.push_back(outs.at(0));
        }
        return emit_layer(l, branch_outputs, 0);
    }

    std::vector<std::string> inbound(const Layer& l, size_t call) {
        const json& nodes = (*l.entry)["inbound_nodes"];
        const json& node = nodes[call];
        std::vector<TensorRef> refs;
        if (node.is_object()) {
            if (node.contains("args")) collect_keras3_refs(node["args"], refs);
            if (node.contains("kwargs")) collect_keras3_refs(node["kwargs"], refs);
        } else if (auto single = as_tensor_ref(node)) {
            refs.push_back(*single);
        } else if (node.is_array()) {
            for (size_t k = 0; k < node.size(); ++k) {
                auto ref = as_tensor_ref(node[k]);
                if (!ref) fail(l.pointer + "/inbound_nodes/" + std::to_string(call) + "/" + std::to_string(k),
                               "expected [layer name, node index, tensor index], got " + describe(node[k]));
                refs.push_back(*ref);
            }
        }
        std::vector<std::string> names;
        for (auto r : refs) {
            auto it = calls_.find(r.layer);
            // Keras counts a nested model's own construction as its node 0: outer calls start at 1.
            if (nested_models_.count(r.layer) && r.node >= 1) r.node -= 1;
            if (it == calls_.end() || r.node < 0 || static_cast<size_t>(r.node) >= it->second.size()) return {};  // not yet
            names.push_back(it->second[static_cast<size_t>(r.node)] + (r.tensor > 0 ? ":" + std::to_string(r.tensor) : ""));
        }
        return names;
    }

    std::vector<std::string> endpoint_names(const json& config, const char* key, const std::string& pointer) {
        if (!config.contains(key)) fail(pointer + "/" + key, std::string("missing: a Functional model names its ") + key);
        std::vector<TensorRef> refs;
        collect_endpoint_refs(config[key], refs);
        std::vector<std::string> names;
        for (auto r : refs) {
            auto it = calls_.find(r.layer);
            // As in inbound(): a nested model's node 0 is its own construction, its first outer call is node 1.
            if (nested_models_.count(r.layer) && r.node >= 1) r.node -= 1;
            if (it == calls_.end() || r.node < 0 || static_cast<size_t>(r.node) >= it->second.size())
                fail(pointer + "/" + key, "names an unknown layer \"" + r.layer + "\"");
            names.push_back(it->second[static_cast<size_t>(r.node)] + (r.tensor > 0 ? ":" + std::to_string(r.tensor) : ""));
        }
        return names;
    }

    std::vector<std::string> emit_functional(const json& model, const std::string& pointer,
                                             const std::vector<Layer>& layers,
                                             std::optional<std::vector<std::string>> bound) {
        const json& config = model["config"];
        std::vector<TensorRef> input_refs;
        if (config.contains("input_layers")) collect_endpoint_refs(config["input_layers"], input_refs);
        // Input layers: the model's inputs, or the tensors a nested call binds them to.
        size_t next_bound = 0;
        for (const Layer& l : layers) {
            if (l.class_name != "InputLayer") continue;
            std::string tensor;
            if (bound) {
                size_t position = next_bound;
                for (size_t k = 0; k < input_refs.size(); ++k)
                    if (input_refs[k].layer == l.name) position = k;
                tensor = position < bound->size() ? (*bound)[position] : bound->back();
                ++next_bound;
            } else {
                std::string key;
                const json* shape = stated_shape(*l.config, key);
                if (!shape) fail(l.pointer + "/config", l.label() + " has no batch_shape (Keras 3) or batch_input_shape (Keras 2)");
                const bool single = input_refs.size() <= 1;
                tensor = declare_input(single ? "__first__" : l.name, *shape, l.pointer + "/config/" + key);
            }
            calls_[l.name] = {tensor};
        }
        // Layers in dependency order: a layer's calls are emitted once the tensors they read exist.
        std::vector<size_t> done_calls(layers.size(), 0);
        bool progress = true;
        while (progress) {
            progress = false;
            for (size_t i = 0; i < layers.size(); ++i) {
                const Layer& l = layers[i];
                if (l.class_name == "InputLayer") continue;
                auto it = l.entry->find("inbound_nodes");
                if (it == l.entry->end() || !it->is_array())
                    fail(l.pointer + "/inbound_nodes", l.label() + " has no \"inbound_nodes\": a Functional model's layers name their inputs");
                while (done_calls[i] < it->size()) {
                    std::vector<std::string> in = inbound(l, done_calls[i]);
                    if (in.empty()) break;
                    std::string out;
                    if (is_model(l.class_name)) {
                        if (done_calls[i] == 0 && model_has_own_input(*l.entry)) nested_models_.insert(l.name);
                        auto outs = done_calls[i] == 0 ? emit_model(*l.entry, l.pointer, in)
                                                       : emit_model_again(l, in, done_calls[i]);
                        calls_[l.name].push_back(outs.at(0));
                        for (size_t k = 1; k < outs.size(); ++k) calls_[l.name].back() += "";  // first output only
                    } else {
                        out = emit_layer(l, in, done_calls[i]);
                        calls_[l.name].push_back(out);
                    }
                    ++done_calls[i];
                    progress = true;
                }
            }
        }
        for (size_t i = 0; i < layers.size(); ++i) {
            const Layer& l = layers[i];
            if (l.class_name == "InputLayer") continue;
            const json& nodes = (*l.entry)["inbound_nodes"];
            if (done_calls[i] < nodes.size() && problems_.empty())
                fail(l.pointer + "/inbound_nodes", l.label() + " reads a layer that is not in the model, or the layers form a cycle");
        }
        return endpoint_names(config, "output_layers", pointer + "/config");
    }

    // A nested model called again (call >= 1): its layers are emitted once more, each as a `shared` node of its
    // first call's layer (the same weights), named <layer>_call<call>. Inside the model, node indices count
    // from its own first call, so its layers' calls are tracked apart and the outer ones restored afterwards.
    std::vector<std::string> emit_model_again(const Layer& model, const std::vector<std::string>& in, size_t call) {
        const auto outer_calls = calls_;
        const size_t outer_repeat = repeat_call_;
        for (const Layer& inner : read_layers(*model.entry, model.pointer)) calls_.erase(inner.name);
        repeat_call_ = call;
        std::vector<std::string> outs = emit_model(*model.entry, model.pointer, in);
        repeat_call_ = outer_repeat;
        calls_ = outer_calls;
        return outs;
    }

    std::string emit_layer(const Layer& l, const std::vector<std::string>& inputs, size_t call) {
        if (call > 0 || repeat_call_ > 0) {  // a shared layer called again, or a nested model's layer: the same weights
            std::string first;
            if (repeat_call_ == 0) {
                first = calls_[l.name].at(0);
            } else {
                auto it = first_layer_.find(l.name);
                if (it == first_layer_.end()) fail(l.pointer, l.label() + ": not emitted by its model's first call");
                first = it->second;
            }
            const size_t n = repeat_call_ > 0 ? repeat_call_ : call;
            json node = {{"type", "shared"}, {"layer", first}, {"name", unique(l.name + "_call" + std::to_string(n))},
                         {"inputs", inputs}};
            layers_.push_back(node);
            return node["name"].get<std::string>();
        }
        const LayerKind* kind = kind_by_keras(l.class_name);
        json out;
        if (l.class_name == "Merge") {
            static const std::map<std::string, std::string> modes = {
                {"sum", "add"}, {"mul", "multiply"}, {"concat", "concatenate"}, {"ave", "average"}, {"max", "maximum"}};
            std::string mode = l.config->value("mode", std::string("sum"));
            auto it = modes.find(mode);
            if (it == modes.end()) {
                problem(l.pointer, l.label() + ": Merge mode \"" + mode + "\" is not a plain merge");
                return unique(l.name);
            }
            out = {{"type", it->second}};
            if (it->second == "concatenate") out["axis"] = l.config->value("concat_axis", -1);
        } else if (!kind) {
            problem(l.pointer, l.label() + " cannot be mapped to a conv1d-reshape layer");
            names_.insert(l.name);
            return l.name;
        } else {
            out = translate_settings(l.class_name, *kind, *l.config, l.pointer + "/config", {source_, keras2_, data_format_});
            out["type"] = type_name(l.class_name, *kind);
        }
        out["name"] = l.name;
        names_.insert(l.name);
        first_layer_.emplace(l.name, l.name);
        out["inputs"] = inputs;
        try {
            // The kind's own reader validates, and its record (every key, defaults filled) is what we emit.
            LayerSpec spec = read_layer(out, l.pointer + "/config", source_);
            json normalized = write_layer(spec);
            for (const char* k : {"activation_keras2", "recurrent_activation_keras2"})
                if (out.contains(k)) normalized[k] = out[k];
            out = normalized;
        } catch (const Error& e) {
            std::string why = e.what();
            if (why.rfind(source_ + ": ", 0) == 0) why = why.substr(source_.size() + 2);
            problem(l.pointer, l.label() + ": " + why, e.pointer());
        }
        layers_.push_back(out);
        return l.name;
    }
};

}  // namespace

bool is_keras_model(const nlohmann::json& document) {
    if (!document.is_object() || !document.contains("class_name") || !document["class_name"].is_string())
        return false;
    const std::string cls = document["class_name"].get<std::string>();
    return cls == "Sequential" || cls == "Functional" || cls == "Model";
}

nlohmann::json keras_to_config(const nlohmann::json& model, const std::string& source,
                               const KerasImportOptions& options) {
    if (!is_keras_model(model))
        throw Error(ErrorKind::config,
                    source + ": /class_name: not a Keras model (expected Sequential, Functional or Model)",
                    "/class_name");
    return Importer(model, source, options).convert();
}

}  // namespace c1r
