// Keras model.to_json() import: a Sequential model, or a Functional one whose layers form a single chain,
// becomes a config object in our own format (SPEC §3); every error names the Keras file and a JSON pointer in
// it.
#include "import/keras.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "io/csv.hpp"
#include "core/error.hpp"
#include "io/npy.hpp"
#include "plan/plan.hpp"
#include "model/spec.hpp"

namespace c1r {
namespace {

using nlohmann::json;

constexpr int64_t kMaxSetting = int64_t{1} << 31;  // the config parser's bound for any layer setting
constexpr const char* kSupportedClasses =
    "Conv1D, Conv1DTranspose, MaxPooling1D, AveragePooling1D, UpSampling1D, Permute, Reshape, Activation";
constexpr const char* kSupportedActivations = "linear, relu, tanh, sigmoid, gelu, elu, swish, silu";

// Layer classes we map, by every name Keras 2 and 3 serialise them under.
enum class KerasClass {
    input,
    conv,
    conv_transpose,
    max_pool,
    avg_pool,
    upsample,
    permute,
    reshape,
    activation
};
const std::map<std::string, KerasClass> kClasses = {
    {"InputLayer", KerasClass::input},
    {"Conv1D", KerasClass::conv},
    {"Convolution1D", KerasClass::conv},
    {"Conv1DTranspose", KerasClass::conv_transpose},
    {"Convolution1DTranspose", KerasClass::conv_transpose},
    {"MaxPooling1D", KerasClass::max_pool},
    {"MaxPool1D", KerasClass::max_pool},
    {"AveragePooling1D", KerasClass::avg_pool},
    {"AvgPool1D", KerasClass::avg_pool},
    {"UpSampling1D", KerasClass::upsample},
    {"Permute", KerasClass::permute},
    {"Reshape", KerasClass::reshape},
    {"Activation", KerasClass::activation},
};

// Layer settings that do not change the forward pass on random (or given) weights: training-only,
// bookkeeping, or numeric policy that --dtype controls instead.
const std::set<std::string> kIgnoredSettings = {
    "name",
    "trainable",
    "dtype",
    "batch_input_shape",
    "autocast",
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "lora_rank",
    "lora_alpha",
};

std::string describe(const json& value) {
    std::string text = value.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// A Keras shape, None written as "None" as Keras prints it.
std::string shape_text(const std::vector<std::optional<int64_t>>& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + (shape[i] ? std::to_string(*shape[i]) : std::string("None"));
    return out + ")";
}

std::string dims_text(const Dims3& dims) {
    return "(" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + ", " + std::to_string(dims[2]) +
           ")";
}

struct KerasLayer {
    size_t index = 0;     // position in the file's list of layers
    std::string pointer;  // e.g. "/config/layers/3"
    std::string class_name;
    std::string name;
    const json* entry = nullptr;   // the whole layer object (class_name, config, inbound_nodes, ...)
    const json* config = nullptr;  // its "config" object

    std::string label() const { return "layer " + std::to_string(index) + " (" + class_name + ")"; }
    std::string at(const std::string& key) const { return pointer + "/config/" + key; }
};

// A reference to a layer's output as Functional models store it: [layer name, node index, tensor index].
struct TensorRef {
    std::string layer;
    int64_t node = 0, tensor = 0;
};

std::optional<TensorRef> as_tensor_ref(const json& value) {
    if (!value.is_array() || value.size() < 3 || value.size() > 4 || !value[0].is_string() ||
        !value[1].is_number_integer() || !value[2].is_number_integer())
        return std::nullopt;
    return TensorRef{value[0].get<std::string>(), value[1].get<int64_t>(), value[2].get<int64_t>()};
}

// Keras 3 writes a call's tensors as {"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}
// anywhere inside its args and kwargs.
void collect_keras3_refs(const json& value, std::vector<TensorRef>& out) {
    if (value.is_object()) {
        auto cls = value.find("class_name");
        if (cls != value.end() && *cls == "__keras_tensor__") {
            const json* history = nullptr;
            if (auto config = value.find("config"); config != value.end() && config->is_object())
                if (auto h = config->find("keras_history"); h != config->end()) history = &*h;
            auto ref = history ? as_tensor_ref(*history) : std::nullopt;
            out.push_back(ref ? *ref : TensorRef{"", -1, -1});  // unreadable history: still an input
            return;
        }
        for (const auto& [_, item] : value.items()) collect_keras3_refs(item, out);
    } else if (value.is_array()) {
        for (const auto& item : value) collect_keras3_refs(item, out);
    }
}

// input_layers / output_layers: one [name, node, tensor] or any nesting of them (list, dict).
void collect_endpoint_refs(const json& value, std::vector<TensorRef>& out) {
    if (auto ref = as_tensor_ref(value)) {
        out.push_back(*ref);
    } else if (value.is_array() || value.is_object()) {
        for (const auto& [_, item] : value.items()) collect_endpoint_refs(item, out);
    }
}

// The input file's shape in the model's data format, by the rules the runner reads it with (SPEC §3 input).
std::optional<Dims3> input_file_dims(const std::string& path, DataFormat format) {
    std::string ext = lower(std::filesystem::path(path).extension().string());
    if (ext == ".csv") {
        CsvTable table = read_csv(path);  // rows are time steps in either data format
        return dims_from_shape(Shape{1, table.rows, table.cols}, format);
    }
    if (ext == ".npy") {
        NpyArray array = read_npy(path);
        const auto& s = array.shape;
        if (s.size() == 1) return dims_from_shape(Shape{1, s[0], 1}, format);
        if (s.size() == 2) return Dims3{1, s[0], s[1]};
        if (s.size() == 3) return Dims3{s[0], s[1], s[2]};
    }
    return std::nullopt;  // an unsupported file: the runner reports it when it loads the input
}

class Importer {
public:
    Importer(const json& model, const std::string& source, const KerasImportOptions& options)
        : model_(model), source_(source), options_(options) {}

    json convert() {
        if (!model_.is_object() || !model_.contains("config"))
            fail("/config", "missing: a Keras model.to_json() text has \"class_name\" and \"config\"");
        const std::string model_class = model_["class_name"].get<std::string>();
        const bool sequential = model_class == "Sequential";
        std::vector<KerasLayer> layers = read_layers(sequential);
        if (!sequential) layers = order_chain(layers);

        size_t first = 0;
        if (layer_class(layers[0]) == KerasClass::input) first = 1;
        for (size_t i = first; i < layers.size(); ++i)
            if (layer_class(layers[i]) == KerasClass::input)
                fail(layers[i].pointer,
                     layers[i].label() + ": an InputLayer after other layers cannot be mapped");
        if (first == layers.size())
            fail(layers[0].pointer, "the model has no layers after its InputLayer; nothing to run");
        for (size_t i = first; i < layers.size(); ++i)
            layer_class(layers[i]);  // unsupported classes fail first

        data_format_ = find_data_format(layers, first);
        json config = json::object();
        const json& model_config = model_["config"];
        if (model_config.is_object() && model_config.contains("name") && model_config["name"].is_string())
            config["name"] = model_config["name"];
        config["data_format"] =
            data_format_ == DataFormat::channels_first ? "channels_first" : "channels_last";
        config["input"] = input_object(layers, first, sequential);
        json out_layers = json::array();
        for (size_t i = first; i < layers.size(); ++i) out_layers.push_back(map_layer(layers[i]));
        config["layers"] = std::move(out_layers);
        return config;
    }

    [[noreturn]] void fail(const std::string& pointer, const std::string& why) const {
        throw Error(ErrorKind::config, source_ + ": " + pointer + ": " + why, pointer);
    }

private:
    const json& model_;
    const std::string& source_;
    const KerasImportOptions& options_;
    DataFormat data_format_ = DataFormat::channels_last;

    KerasClass layer_class(const KerasLayer& layer) const {
        auto it = kClasses.find(layer.class_name);
        if (it == kClasses.end())
            fail(layer.pointer, layer.label() + " cannot be mapped to a conv1d-reshape layer (supported: " +
                                    kSupportedClasses + ", and InputLayer)");
        return it->second;
    }

    // Sequential "config" is {"name", "layers": [...]} or, before Keras 2.2, the bare list of layers.
    std::vector<KerasLayer> read_layers(bool sequential) const {
        const json& config = model_["config"];
        const json* list = nullptr;
        std::string base;
        if (config.is_array() && sequential) {
            list = &config;
            base = "/config";
        } else if (config.is_object() && config.contains("layers") && config["layers"].is_array()) {
            list = &config["layers"];
            base = "/config/layers";
        } else {
            fail(config.is_object() ? "/config/layers" : "/config",
                 "expected the model's list of layers, got " +
                     describe(config.is_object() && config.contains("layers") ? config["layers"] : config));
        }
        if (list->empty()) fail(base, "the model has no layers");
        std::vector<KerasLayer> layers;
        for (size_t i = 0; i < list->size(); ++i) {
            const json& entry = (*list)[i];
            KerasLayer layer;
            layer.index = i;
            layer.pointer = base + "/" + std::to_string(i);
            layer.entry = &entry;
            if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string())
                fail(layer.pointer, "expected a layer object with \"class_name\", got " + describe(entry));
            layer.class_name = entry["class_name"].get<std::string>();
            if (!entry.contains("config") || !entry["config"].is_object())
                fail(layer.pointer + "/config",
                     "layer " + std::to_string(i) + " (" + layer.class_name + ") has no \"config\" object");
            layer.config = &entry["config"];
            // Functional inbound_nodes refer to the outer "name"; Sequential layers have only the inner one.
            if (entry.contains("name") && entry["name"].is_string())
                layer.name = entry["name"].get<std::string>();
            else if (layer.config->contains("name") && (*layer.config)["name"].is_string())
                layer.name = (*layer.config)["name"].get<std::string>();
            layers.push_back(layer);
        }
        return layers;
    }

    // The tensors a Functional layer's one call consumes (Keras 2: [[["name", 0, 0, {}]]]; Keras 3:
    // [{"args": [...], "kwargs": {...}}]).
    std::vector<TensorRef> inbound_refs(const KerasLayer& layer) const {
        const std::string pointer = layer.pointer + "/inbound_nodes";
        auto it = layer.entry->find("inbound_nodes");
        if (it == layer.entry->end())
            fail(pointer,
                 layer.label() + " has no \"inbound_nodes\": a Functional model's layers name their inputs");
        const json& nodes = *it;
        if (!nodes.is_array()) fail(pointer, "expected a list of calls, got " + describe(nodes));
        if (nodes.empty()) fail(pointer, layer.label() + " is not connected to the model's input");
        if (nodes.size() > 1)
            fail(pointer, layer.label() + " is called " + std::to_string(nodes.size()) +
                              " times (a shared layer); only a single linear chain of layers can be mapped");
        const json& node = nodes[0];
        std::vector<TensorRef> refs;
        if (node.is_object()) {
            if (node.contains("args")) collect_keras3_refs(node["args"], refs);
            if (node.contains("kwargs")) collect_keras3_refs(node["kwargs"], refs);
        } else if (auto single = as_tensor_ref(node)) {
            refs.push_back(*single);  // a call flattened to one reference
        } else if (node.is_array()) {
            for (size_t k = 0; k < node.size(); ++k) {
                auto ref = as_tensor_ref(node[k]);
                if (!ref)
                    fail(pointer + "/0/" + std::to_string(k),
                         "expected [layer name, node index, tensor index], got " + describe(node[k]));
                refs.push_back(*ref);
            }
        } else {
            fail(pointer + "/0", "expected a call's inputs, got " + describe(node));
        }
        return refs;
    }

    std::vector<TensorRef> endpoints(const std::string& key) const {
        const json& config = model_["config"];
        if (!config.contains(key)) fail("/config/" + key, "missing: a Functional model names its " + key);
        std::vector<TensorRef> refs;
        collect_endpoint_refs(config[key], refs);
        const std::string what = key == "input_layers" ? "inputs" : "outputs";
        if (refs.size() != 1)
            fail("/config/" + key,
                 "the model has " + std::to_string(refs.size()) + " " + what +
                     "; only a single linear chain of layers (one input, one output) can be mapped");
        return refs;
    }

    // Orders a Functional model's layers from its input to its output, refusing anything but one chain.
    std::vector<KerasLayer> order_chain(const std::vector<KerasLayer>& layers) const {
        std::map<std::string, size_t> by_name;
        for (const auto& layer : layers) {
            if (layer.name.empty())
                fail(layer.pointer + "/name", layer.label() + " has no name to be referred to by");
            if (!by_name.emplace(layer.name, layer.index).second)
                fail(layer.pointer + "/name", "two layers are named \"" + layer.name + "\"");
        }
        std::vector<std::optional<size_t>> producer(layers.size());
        for (const auto& layer : layers) {
            if (layer.class_name == "InputLayer") continue;
            std::vector<TensorRef> refs = inbound_refs(layer);
            const std::string pointer = layer.pointer + "/inbound_nodes";
            if (refs.size() != 1)
                fail(pointer,
                     layer.label() + " takes " + std::to_string(refs.size()) +
                         " inputs: the model branches; only a single linear chain of layers can be mapped");
            auto it = by_name.find(refs[0].layer);
            if (it == by_name.end())
                fail(pointer, layer.label() + " reads an unknown layer \"" + refs[0].layer + "\"");
            if (refs[0].node != 0 || refs[0].tensor != 0)
                fail(pointer,
                     layer.label() + " reads call " + std::to_string(refs[0].node) + ", output " +
                         std::to_string(refs[0].tensor) + " of \"" + refs[0].layer +
                         "\" (a shared or multi-output layer); only a single linear chain can be mapped");
            producer[layer.index] = it->second;
        }
        TensorRef input = endpoints("input_layers")[0];
        TensorRef output = endpoints("output_layers")[0];
        auto out_it = by_name.find(output.layer);
        if (out_it == by_name.end())
            fail("/config/output_layers", "names an unknown layer \"" + output.layer + "\"");

        std::vector<KerasLayer> chain;
        std::vector<bool> on_chain(layers.size(), false);
        for (std::optional<size_t> at = out_it->second; at; at = producer[*at]) {
            if (on_chain[*at]) fail(layers[*at].pointer + "/inbound_nodes", "the layers form a cycle");
            on_chain[*at] = true;
            chain.push_back(layers[*at]);
        }
        std::reverse(chain.begin(), chain.end());
        if (chain.front().name != input.layer)
            fail("/config/input_layers", "the model's input \"" + input.layer +
                                             "\" is not where its output \"" + output.layer +
                                             "\" leads back to (\"" + chain.front().name + "\")");
        for (const auto& layer : layers)
            if (!on_chain[layer.index])
                fail(layer.pointer,
                     layer.label() +
                         " is not on the path from the input to the output: the model branches; "
                         "only a single linear chain of layers can be mapped");
        return chain;
    }

    // One data format for the whole model: the config format has one, and Keras layers may each name theirs.
    DataFormat find_data_format(const std::vector<KerasLayer>& layers, size_t first) const {
        std::optional<std::pair<std::string, const KerasLayer*>> seen;
        for (size_t i = first; i < layers.size(); ++i) {
            auto it = layers[i].config->find("data_format");
            if (it == layers[i].config->end() || it->is_null())
                continue;  // None: Keras' default, channels_last
            if (!it->is_string() || (*it != "channels_last" && *it != "channels_first"))
                fail(layers[i].at("data_format"),
                     layers[i].label() + ": data_format " + describe(*it) +
                         " cannot be mapped (expected channels_last or channels_first)");
            std::string format = it->get<std::string>();
            if (!seen) {
                seen = std::pair{format, &layers[i]};
            } else if (seen->first != format) {
                fail(layers[i].at("data_format"), layers[i].label() + " has data_format " + format + " but " +
                                                      seen->second->label() + " has " + seen->first +
                                                      "; conv1d-reshape runs a model in one data format");
            }
        }
        return seen && seen->first == "channels_first" ? DataFormat::channels_first
                                                       : DataFormat::channels_last;
    }

    struct ShapeSource {
        const json* shape = nullptr;
        std::string pointer;
    };

    // Where the model states its input shape, most direct first.
    ShapeSource find_input_shape(const std::vector<KerasLayer>& layers, size_t first, bool sequential) const {
        if (first == 1) {
            const KerasLayer& input = layers[0];
            for (const char* key : {"batch_shape", "batch_input_shape"})
                if (input.config->contains(key)) return {&(*input.config)[key], input.at(key)};
            fail(input.pointer + "/config", input.label() +
                                                " has no batch_shape (Keras 3) or batch_input_shape "
                                                "(Keras 2)");
        }
        const KerasLayer& head = layers[first];
        if (head.config->contains("batch_input_shape") && !(*head.config)["batch_input_shape"].is_null())
            return {&(*head.config)["batch_input_shape"], head.at("batch_input_shape")};
        const json& config = model_["config"];
        if (sequential && config.is_object() && config.contains("build_input_shape") &&
            !config["build_input_shape"].is_null())
            return {&config["build_input_shape"], "/config/build_input_shape"};
        for (const auto& [object, pointer] :
             {std::pair{&model_, std::string()}, std::pair{head.entry, head.pointer}}) {
            auto build = object->find("build_config");
            if (build != object->end() && build->is_object() && build->contains("input_shape") &&
                !(*build)["input_shape"].is_null())
                return {&(*build)["input_shape"], pointer + "/build_config/input_shape"};
        }
        fail(head.pointer,
             "the model does not state its input shape (no InputLayer, batch_input_shape, "
             "build_input_shape or build_config); save it from a built model");
    }

    json input_object(const std::vector<KerasLayer>& layers, size_t first, bool sequential) const {
        ShapeSource source = find_input_shape(layers, first, sequential);
        const json& raw = *source.shape;
        if (!raw.is_array()) fail(source.pointer, "expected a shape list, got " + describe(raw));
        std::vector<std::optional<int64_t>> shape;
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i].is_null()) {
                shape.push_back(std::nullopt);
            } else if (raw[i].is_number_unsigned() &&
                       raw[i].get<uint64_t>() > static_cast<uint64_t>(kMaxSetting)) {
                fail(source.pointer + "/" + std::to_string(i),
                     describe(raw[i]) + " is too large (at most " + std::to_string(kMaxSetting) + ")");
            } else if (raw[i].is_number_integer() && raw[i].get<int64_t>() >= 1) {
                shape.push_back(raw[i].get<int64_t>());
            } else {
                fail(source.pointer + "/" + std::to_string(i),
                     "expected a positive integer or null, got " + describe(raw[i]));
            }
        }
        const bool channels_first = data_format_ == DataFormat::channels_first;
        // Axis of the input file's length and channels in the shape list as written (batch is axis 0).
        size_t length_axis = channels_first ? 2 : 1, channel_axis = channels_first ? 1 : 2;
        std::optional<int64_t> length, channels;
        if (shape.size() == 3) {
            length = shape[length_axis];
            channels = shape[channel_axis];
        } else if (shape.size() == 2 && layer_class(layers[first]) == KerasClass::reshape) {
            // (batch, samples), e.g. a raw waveform, reshaped first: the same values as (batch, samples, 1).
            length = shape[1];
            channels = 1;
            length_axis = 1;
            channel_axis = 1;
        } else {
            fail(source.pointer,
                 "input shape " + shape_text(shape) + " has rank " + std::to_string(shape.size()) +
                     "; conv1d-reshape needs rank 3: " +
                     (channels_first ? "(batch, channels, steps)" : "(batch, steps, channels)") +
                     (shape.size() == 2 ? " (or rank 2 when the first layer is a Reshape)" : ""));
        }
        if (!channels)
            fail(source.pointer + "/" + std::to_string(channel_axis),
                 "the channel count is None in input shape " + shape_text(shape) +
                     "; conv1d-reshape needs a fixed number of channels");

        auto resolve = [&](std::optional<int64_t> fixed, std::optional<int64_t> option,
                           const std::string& what, size_t axis) -> std::optional<int64_t> {
            if (fixed && option && *fixed != *option)
                fail(source.pointer + "/" + std::to_string(axis),
                     "--" + what + " " + std::to_string(*option) + " differs from the model's fixed " + what +
                         " " + std::to_string(*fixed) + " in input shape " + shape_text(shape));
            return fixed ? fixed : option;
        };
        std::optional<int64_t> batch = resolve(shape[0], options_.batch, "batch", 0);
        length = resolve(length, options_.length, "length", length_axis);

        json input = json::object();
        if (!options_.input_file.empty()) {
            input["file"] = options_.input_file;
            if (batch && length) {
                // The runner then checks that the file has exactly this shape, and says so when it doesn't.
                input["shape"] =
                    channels_first ? json{*batch, *channels, *length} : json{*batch, *length, *channels};
            } else {
                check_input_file(batch, length, *channels, shape, source.pointer);
            }
            return input;
        }
        if (!length)
            fail(source.pointer + "/" + std::to_string(length_axis),
                 "length is None: give --length N or --input FILE (input shape " + shape_text(shape) + ")");
        int64_t b = batch.value_or(1);
        input["shape"] = channels_first ? json{b, *channels, *length} : json{b, *length, *channels};
        return input;
    }

    // The file fills the dims the model leaves None; the ones it fixes (or --batch/--length fix) must agree.
    void check_input_file(std::optional<int64_t> batch, std::optional<int64_t> length, int64_t channels,
                          const std::vector<std::optional<int64_t>>& shape,
                          const std::string& pointer) const {
        std::optional<Dims3> file = input_file_dims(options_.input_file, data_format_);
        if (!file) return;
        const bool channels_first = data_format_ == DataFormat::channels_first;
        const int64_t file_batch = (*file)[0];
        const int64_t file_length = (*file)[channels_first ? 2 : 1];
        const int64_t file_channels = (*file)[channels_first ? 1 : 2];
        std::string mismatch;
        if (batch && *batch != file_batch)
            mismatch = "batch " + std::to_string(*batch);
        else if (length && *length != file_length)
            mismatch = "length " + std::to_string(*length);
        else if (channels != file_channels)
            mismatch = std::to_string(channels) + " channels";
        if (!mismatch.empty())
            fail(pointer, options_.input_file + " has shape " + dims_text(*file) +
                              " but the model's input shape " + shape_text(shape) +
                              (options_.batch || options_.length ? " with --batch/--length" : "") +
                              " needs " + mismatch);
    }

    json map_layer(const KerasLayer& layer) const;
};

// Reads one layer's settings, refusing the ones it neither maps nor knows to be irrelevant to the forward
// pass.
class SettingsReader {
public:
    SettingsReader(const Importer& importer, const KerasLayer& layer) : importer_(importer), layer_(layer) {}

    [[noreturn]] void fail(const std::string& key, const std::string& why) const {
        importer_.fail(layer_.at(key), layer_.label() + ": " + why);
    }

    const json* find(const std::string& key) {
        used_.insert(key);
        auto it = layer_.config->find(key);
        return it == layer_.config->end() ? nullptr : &*it;
    }

    // Keras writes tuple arguments as one-element lists ([3]); plain integers are accepted too.
    int64_t integer(const std::string& key, std::optional<int64_t> fallback, int64_t min_value) {
        const json* value = find(key);
        if (!value || value->is_null()) {
            if (!fallback) fail(key, "\"" + key + "\" is missing");
            return *fallback;
        }
        const json& v = value->is_array() && value->size() == 1 ? (*value)[0] : *value;
        if (!v.is_number_integer())
            fail(key, key + " " + describe(*value) +
                          " cannot be mapped (expected an integer or a one-element list)");
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxSetting))
            fail(key, key + " " + describe(*value) + " is too large");
        const int64_t n = v.get<int64_t>();
        if (n < min_value)
            fail(key, key + " must be at least " + std::to_string(min_value) + ", got " + describe(*value));
        return n;
    }

    std::vector<int64_t> integer_list(const std::string& key, int64_t min_value) {
        const json* value = find(key);
        if (!value || !value->is_array()) fail(key, "expected \"" + key + "\" as a list of integers");
        std::vector<int64_t> out;
        for (const auto& item : *value) {
            if (!item.is_number_integer() || item.get<int64_t>() < min_value ||
                item.get<int64_t>() > kMaxSetting)
                fail(key, key + " " + describe(*value) + " cannot be mapped");
            out.push_back(item.get<int64_t>());
        }
        return out;
    }

    bool boolean(const std::string& key, bool fallback) {
        const json* value = find(key);
        if (!value) return fallback;
        if (!value->is_boolean()) fail(key, key + " " + describe(*value) + " is not true or false");
        return value->get<bool>();
    }

    std::string padding(const std::vector<std::string>& allowed) {
        const json* value = find("padding");
        if (!value || value->is_null()) return "valid";
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        if (!value->is_string())
            fail("padding", "padding " + describe(*value) + " cannot be mapped (" + layer_.class_name +
                                " supports " + names + ")");
        std::string text = lower(value->get<std::string>());
        if (std::find(allowed.begin(), allowed.end(), text) == allowed.end())
            fail("padding", "padding \"" + value->get<std::string>() + "\" cannot be mapped (" +
                                layer_.class_name + " supports " + names + ")");
        return text;
    }

    std::string activation() {
        const json* value = find("activation");
        if (!value || value->is_null()) return "linear";  // Keras: None is the identity
        static const std::set<std::string> kKnown = {"linear", "relu", "tanh", "sigmoid",
                                                     "gelu",   "elu",  "swish"};
        if (value->is_string()) {
            std::string name = value->get<std::string>();
            if (name == "silu") return "swish";  // Keras 3's name for the same function
            if (kKnown.count(name)) return name;
        }
        fail("activation", "activation " + describe(*value) +
                               " cannot be mapped to a conv1d-reshape activation (supported: " +
                               kSupportedActivations + ")");
    }

    // Read and checked elsewhere (data_format by the importer for the whole model).
    void skip(const std::string& key) { used_.insert(key); }

    void finish() const {
        for (const auto& [key, value] : layer_.config->items()) {
            if (used_.count(key) || kIgnoredSettings.count(key)) continue;
            if (key == "quantization_config" && value.is_null()) continue;
            fail(key,
                 "setting \"" + key + "\" = " + describe(value) +
                     " is not one conv1d-reshape knows; it cannot tell whether it changes the forward pass");
        }
    }

private:
    const Importer& importer_;
    const KerasLayer& layer_;
    std::set<std::string> used_;
};

json Importer::map_layer(const KerasLayer& layer) const {
    SettingsReader r(*this, layer);
    json out = json::object();
    LayerSpec spec;  // the settings once more, for the checks the config parser shares with us
    spec.pointer = layer.pointer + "/config";
    switch (layer_class(layer)) {
        case KerasClass::conv:
        case KerasClass::conv_transpose: {
            const bool transpose = layer_class(layer) == KerasClass::conv_transpose;
            spec.type = transpose ? LayerType::conv1d_transpose : LayerType::conv1d;
            out["type"] = to_string(spec.type);
            spec.filters = r.integer("filters", std::nullopt, 1);
            spec.kernel_size = r.integer("kernel_size", std::nullopt, 1);
            spec.strides = r.integer("strides", 1, 1);
            out["filters"] = spec.filters;
            out["kernel_size"] = spec.kernel_size;
            out["strides"] = spec.strides;
            out["padding"] =
                transpose ? r.padding({"valid", "same"}) : r.padding({"valid", "same", "causal"});
            spec.dilation_rate = r.integer("dilation_rate", 1, 1);
            out["dilation_rate"] = spec.dilation_rate;
            spec.groups = r.integer("groups", 1, 1);
            if (transpose) {
                // tf.keras writes Conv1D's "groups": 1 into Conv1DTranspose too; grouped transposes don't
                // exist there.
                if (spec.groups != 1)
                    r.fail("groups", "groups " + std::to_string(spec.groups) +
                                         " cannot be mapped "
                                         "(Conv1DTranspose has no groups)");
                if (const json* op = r.find("output_padding"); op && !op->is_null()) {
                    spec.output_padding = r.integer("output_padding", std::nullopt, 0);
                    out["output_padding"] = *spec.output_padding;
                }
            } else {
                out["groups"] = spec.groups;
            }
            out["use_bias"] = r.boolean("use_bias", true);
            out["activation"] = r.activation();
            r.skip("data_format");
            break;
        }
        case KerasClass::max_pool:
        case KerasClass::avg_pool: {
            spec.type =
                layer_class(layer) == KerasClass::max_pool ? LayerType::max_pool1d : LayerType::avg_pool1d;
            out["type"] = to_string(spec.type);
            spec.pool_size = r.integer("pool_size", 2, 1);
            out["pool_size"] = spec.pool_size;
            out["strides"] = r.integer("strides", spec.pool_size, 1);  // None: the pool size, as Keras
            out["padding"] = r.padding({"valid", "same"});
            r.skip("data_format");
            break;
        }
        case KerasClass::upsample: {
            if (data_format_ == DataFormat::channels_first)
                r.fail("size",
                       "UpSampling1D repeats axis 1, the channel axis of this channels_first model; "
                       "conv1d-reshape's upsample1d repeats steps");
            spec.type = LayerType::upsample1d;
            out["type"] = to_string(spec.type);
            out["size"] = r.integer("size", 2, 1);
            break;
        }
        case KerasClass::permute: {
            spec.type = LayerType::permute;
            out["type"] = to_string(spec.type);
            spec.dims = r.integer_list("dims", 1);
            out["dims"] = spec.dims;
            break;
        }
        case KerasClass::reshape: {
            spec.type = LayerType::reshape;
            out["type"] = to_string(spec.type);
            spec.target_shape = r.integer_list("target_shape", -1);
            if (spec.target_shape.size() != 2)
                r.fail("target_shape",
                       "target_shape " + describe(json(spec.target_shape)) +
                           " cannot be mapped: conv1d-reshape's tensors are (batch, steps, channels), "
                           "so a Reshape needs two entries");
            out["target_shape"] = spec.target_shape;
            break;
        }
        case KerasClass::activation: {
            spec.type = LayerType::activation;
            out["type"] = to_string(spec.type);
            out["activation"] = r.activation();
            break;
        }
        case KerasClass::input:
            break;  // only the first layer, consumed by input_object
    }
    r.finish();
    (void)spec;  // settings are validated when the config is read (layers/kind.hpp)
    if (!layer.name.empty()) out["name"] = layer.name;
    return out;
}

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
