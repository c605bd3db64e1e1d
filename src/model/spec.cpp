// Config parsing and strict validation: every error names the file and the JSON pointer.
#include "model/spec.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace c1r {
namespace {

using nlohmann::json;

constexpr int64_t kMaxSetting = int64_t{1} << 31;  // no layer setting is sanely larger; keeps products in range

const std::map<std::string, LayerType> kLayerTypes = {
    {"conv1d", LayerType::conv1d},         {"conv1d_transpose", LayerType::conv1d_transpose},
    {"max_pool1d", LayerType::max_pool1d}, {"avg_pool1d", LayerType::avg_pool1d},
    {"upsample1d", LayerType::upsample1d}, {"permute", LayerType::permute},
    {"reshape", LayerType::reshape},       {"activation", LayerType::activation},
};

const std::map<std::string, Activation> kActivations = {
    {"linear", Activation::linear}, {"relu", Activation::relu}, {"tanh", Activation::tanh},
    {"sigmoid", Activation::sigmoid}, {"gelu", Activation::gelu}, {"elu", Activation::elu},
    {"swish", Activation::swish}, {"silu", Activation::swish},
};

std::string describe(const json& value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

std::string escape_pointer_token(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

// Reads one JSON object, remembering which keys were used so that unknown ones can be refused.
class ObjectReader {
public:
    ObjectReader(const json& object, std::string pointer, const std::string& source)
        : object_(object), pointer_(std::move(pointer)), source_(source) {
        if (!object_.is_object())
            fail(pointer_, std::string(pointer_.empty() ? "the top level" : "") + " expected an object, got " +
                               describe(object_));
    }

    [[noreturn]] void fail(const std::string& pointer, const std::string& why) const {
        throw Error(ErrorKind::config, source_ + ": " + (pointer.empty() ? "" : pointer + ": ") + why, pointer);
    }

    // A missing key is often a misspelt one: name what the object does have.
    [[noreturn]] void fail_missing(const std::string& key) const {
        std::string given;
        for (const auto& [k, _] : object_.items()) given += (given.empty() ? "\"" : ", \"") + k + "\"";
        fail(at(key), "missing required key \"" + key + "\"" + (given.empty() ? "" : " (given: " + given + ")"));
    }
    std::string at(const std::string& key) const { return pointer_ + "/" + escape_pointer_token(key); }

    const json* find(const std::string& key) {
        used_.insert(key);
        auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }
    bool has(const std::string& key) const { return object_.contains(key); }

    // Integers may also be written as a one-element list (Keras serialises kernel_size as [3]).
    int64_t integer(const std::string& key, std::optional<int64_t> fallback, int64_t min_value,
                    int64_t max_value = kMaxSetting) {
        const json* value = find(key);
        if (!value) {
            if (!fallback) fail_missing(key);
            return *fallback;
        }
        return integer_value(*value, at(key), min_value, max_value);
    }

    int64_t integer_value(const json& raw, const std::string& pointer, int64_t min_value,
                          int64_t max_value = kMaxSetting) const {
        const json& value = (raw.is_array() && raw.size() == 1) ? raw[0] : raw;
        if (!value.is_number_integer()) {
            // Whole-valued floats get a hint; the range check comes first, a cast out of range is undefined.
            if (value.is_number_float() && std::fabs(value.get<double>()) < 9.2e18 &&
                value.get<double>() == std::trunc(value.get<double>()))
                fail(pointer, "expected an integer, got " + describe(raw) + " (write it without a decimal point)");
            fail(pointer, "expected an integer, got " + describe(raw));
        }
        if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max_value))
            fail(pointer, "value " + describe(raw) + " is too large (at most " + std::to_string(max_value) + ")");
        int64_t v = value.get<int64_t>();
        if (v < min_value)
            fail(pointer, "must be at least " + std::to_string(min_value) + ", got " + std::to_string(v));
        if (v > max_value)
            fail(pointer, "value " + std::to_string(v) + " is too large (at most " + std::to_string(max_value) + ")");
        return v;
    }

    double number(const std::string& key, double fallback) {
        const json* value = find(key);
        if (!value) return fallback;
        if (!value->is_number()) fail(at(key), "expected a number, got " + describe(*value));
        double v = value->get<double>();
        if (!std::isfinite(v)) fail(at(key), "expected a finite number");
        return v;
    }

    bool boolean(const std::string& key, bool fallback) {
        const json* value = find(key);
        if (!value) return fallback;
        if (!value->is_boolean()) fail(at(key), "expected true or false, got " + describe(*value));
        return value->get<bool>();
    }

    std::optional<std::string> string(const std::string& key) {
        const json* value = find(key);
        if (!value) return std::nullopt;
        if (!value->is_string()) fail(at(key), "expected a string, got " + describe(*value));
        return value->get<std::string>();
    }

    template <typename Enum>
    Enum choice(const std::string& key, Enum fallback, const std::map<std::string, Enum>& choices) {
        auto text = string(key);
        if (!text) return fallback;
        auto it = choices.find(*text);
        if (it == choices.end()) {
            std::string names;
            for (const auto& [name, _] : choices) names += (names.empty() ? "" : ", ") + name;
            fail(at(key), "unknown value \"" + *text + "\" (expected one of: " + names + ")");
        }
        return it->second;
    }

    // Refuses keys nobody read: the typo "kernal_size" must not pass silently.
    void finish(const std::set<std::string>& ignored = {}) const {
        for (const auto& [key, _] : object_.items()) {
            if (!used_.count(key) && !ignored.count(key)) {
                std::string known;
                for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
                fail(at(key), "unknown key \"" + key + "\" (known here: " + known + ")");
            }
        }
    }

    const std::string& pointer() const { return pointer_; }
    const std::string& source() const { return source_; }

private:
    const json& object_;
    std::string pointer_;
    const std::string& source_;
    std::set<std::string> used_;
};

std::string resolve_path(const std::string& path, const std::string& source) {
    std::filesystem::path p(path);
    if (p.is_absolute() || source.empty()) return path;
    return (std::filesystem::path(source).parent_path() / p).lexically_normal().string();
}

PaddingSpec read_padding(ObjectReader& r, bool allow_causal, bool allow_explicit) {
    const json* value = r.find("padding");
    PaddingSpec padding;
    if (!value) return padding;
    std::string pointer = r.at("padding");
    if (value->is_string()) {
        std::string text = value->get<std::string>();
        if (text == "valid") padding.kind = PaddingKind::valid;
        else if (text == "same") padding.kind = PaddingKind::same;
        else if (text == "causal" && allow_causal) padding.kind = PaddingKind::causal;
        else
            r.fail(pointer, "unknown padding \"" + text + "\" (expected " +
                                (allow_causal ? "valid, same, causal, an integer or [left, right]" : "valid or same") +
                                ")");
        return padding;
    }
    if (!allow_explicit) r.fail(pointer, "expected \"valid\" or \"same\", got " + describe(*value));
    if (value->is_number()) {
        padding.kind = PaddingKind::explicit_pads;
        padding.left = padding.right = r.integer_value(*value, pointer, 0);
        return padding;
    }
    if (value->is_array() && value->size() == 2) {
        padding.kind = PaddingKind::explicit_pads;
        padding.left = r.integer_value((*value)[0], pointer + "/0", 0);
        padding.right = r.integer_value((*value)[1], pointer + "/1", 0);
        return padding;
    }
    r.fail(pointer, "expected \"valid\", \"same\", \"causal\", an integer or [left, right], got " + describe(*value));
}

void read_weights(ObjectReader& r, LayerSpec& layer) {
    const json* value = r.find("weights");
    if (!value || value->is_null()) return;
    ObjectReader w(*value, r.at("weights"), r.source());
    if (auto kernel = w.string("kernel")) layer.kernel_file = resolve_path(*kernel, r.source());
    if (auto bias = w.string("bias")) layer.bias_file = resolve_path(*bias, r.source());
    w.finish();
}

std::vector<int64_t> read_int_list(ObjectReader& r, const std::string& key, int64_t min_value) {
    const json* value = r.find(key);
    if (!value) r.fail_missing(key);
    if (!value->is_array()) r.fail(r.at(key), "expected a list of integers, got " + describe(*value));
    std::vector<int64_t> out;
    for (size_t i = 0; i < value->size(); ++i)
        out.push_back(r.integer_value((*value)[i], r.at(key) + "/" + std::to_string(i), min_value));
    return out;
}

LayerSpec read_layer(const json& object, const std::string& pointer, const std::string& source) {
    ObjectReader r(object, pointer, source);
    LayerSpec layer;
    layer.pointer = pointer;
    auto type = r.string("type");
    if (!type) r.fail_missing("type");
    layer.type = r.choice("type", LayerType::conv1d, kLayerTypes);
    layer.name = r.string("name").value_or("");
    switch (layer.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose: {
            bool transpose = layer.type == LayerType::conv1d_transpose;
            layer.filters = r.integer("filters", std::nullopt, 1);
            layer.kernel_size = r.integer("kernel_size", std::nullopt, 1);
            layer.strides = r.integer("strides", 1, 1);
            layer.padding = read_padding(r, !transpose, !transpose);
            layer.dilation_rate = r.integer("dilation_rate", 1, 1);
            if (!transpose) layer.groups = r.integer("groups", 1, 1);
            if (transpose) {
                const json* op = r.find("output_padding");
                if (op && !op->is_null()) layer.output_padding = r.integer_value(*op, r.at("output_padding"), 0);
            }
            layer.use_bias = r.boolean("use_bias", true);
            layer.activation = r.choice("activation", Activation::linear, kActivations);
            read_weights(r, layer);
            break;
        }
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d: {
            layer.pool_size = r.integer("pool_size", 2, 1);
            layer.kernel_size = layer.pool_size;
            // Keras writes strides null for "same as pool_size".
            if (const json* strides = r.find("strides"); strides && strides->is_null()) layer.strides = layer.pool_size;
            else layer.strides = r.integer("strides", layer.pool_size, 1);
            layer.padding = read_padding(r, false, false);
            break;
        }
        case LayerType::upsample1d: layer.size = r.integer("size", 2, 1); break;
        case LayerType::permute: layer.dims = read_int_list(r, "dims", 1); break;
        case LayerType::reshape: layer.target_shape = read_int_list(r, "target_shape", -1); break;
        case LayerType::activation: {
            if (!r.has("activation")) r.fail_missing("activation");
            layer.activation = r.choice("activation", Activation::linear, kActivations);
            break;
        }
    }
    r.finish();
    validate_layer(layer, source);
    return layer;
}

InitSpec read_init(ObjectReader& parent) {
    InitSpec init;
    const json* value = parent.find("init");
    if (!value) return init;
    ObjectReader r(*value, parent.at("init"), parent.source());
    init.distribution = r.choice("distribution", Distribution::normal,
                                 std::map<std::string, Distribution>{{"normal", Distribution::normal},
                                                                     {"uniform", Distribution::uniform}});
    init.mean = r.number("mean", 0.0);
    init.stddev = r.number("stddev", 1.0);
    init.low = r.number("low", -1.0);
    init.high = r.number("high", 1.0);
    init.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, std::numeric_limits<int64_t>::max()));
    if (init.stddev < 0) r.fail(r.at("stddev"), "must not be negative");
    if (init.low > init.high) r.fail(r.at("low"), "low is greater than high");
    r.finish();
    return init;
}

InputSpec read_input(ObjectReader& top) {
    InputSpec input;
    const json* value = top.find("input");
    if (!value) top.fail("/input", "missing required key (give \"shape\" or \"file\")");
    ObjectReader r(*value, "/input", top.source());
    if (const json* shape = r.find("shape")) {
        if (!shape->is_array() || shape->size() != 3)
            r.fail("/input/shape", "expected exactly three positive integers, got " + describe(*shape));
        Dims3 dims{};
        for (size_t i = 0; i < 3; ++i) dims[i] = r.integer_value((*shape)[i], "/input/shape/" + std::to_string(i), 1);
        input.shape = dims;
    }
    if (auto file = r.string("file")) {
        if (file->empty()) r.fail("/input/file", "empty file name");
        input.file = resolve_path(*file, top.source());
    }
    if (!input.shape && input.file.empty()) r.fail("/input", "give \"shape\" or \"file\"");
    input.init = read_init(r);
    r.finish();
    return input;
}

RunSpec read_run(ObjectReader& top) {
    RunSpec run;
    const json* value = top.find("run");
    if (!value) return run;
    ObjectReader r(*value, "/run", top.source());
    run.warmup = r.integer("warmup", 5, 0, 1000000);
    run.repeats = r.integer("repeats", 50, 1, 1000000);
    if (const json* threads = r.find("threads")) {
        if (!(threads->is_string() && threads->get<std::string>() == "auto"))
            run.threads = r.integer_value(*threads, "/run/threads", 1, 4096);
    }
    run.dtype = r.choice("dtype", DType::f32, std::map<std::string, DType>{{"f32", DType::f32}, {"bf16", DType::bf16}});
    if (r.has("seed")) run.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, std::numeric_limits<int64_t>::max()));
    r.finish();
    return run;
}

}  // namespace

const char* to_string(LayerType type) {
    switch (type) {
        case LayerType::conv1d: return "conv1d";
        case LayerType::conv1d_transpose: return "conv1d_transpose";
        case LayerType::max_pool1d: return "max_pool1d";
        case LayerType::avg_pool1d: return "avg_pool1d";
        case LayerType::upsample1d: return "upsample1d";
        case LayerType::permute: return "permute";
        case LayerType::reshape: return "reshape";
        case LayerType::activation: return "activation";
    }
    return "?";
}

const char* to_string(Activation activation) {
    switch (activation) {
        case Activation::linear: return "linear";
        case Activation::relu: return "relu";
        case Activation::tanh: return "tanh";
        case Activation::sigmoid: return "sigmoid";
        case Activation::gelu: return "gelu";
        case Activation::elu: return "elu";
        case Activation::swish: return "swish";
    }
    return "?";
}

const char* to_string(PaddingKind kind) {
    switch (kind) {
        case PaddingKind::valid: return "valid";
        case PaddingKind::same: return "same";
        case PaddingKind::causal: return "causal";
        case PaddingKind::explicit_pads: return "explicit";
    }
    return "?";
}

const char* to_string(DType dtype) { return dtype == DType::bf16 ? "bf16" : "f32"; }

std::optional<Activation> activation_from_string(const std::string& name) {
    auto it = kActivations.find(name);
    if (it == kActivations.end()) return std::nullopt;
    return it->second;
}

void validate_layer(const LayerSpec& layer, const std::string& source) {
    auto fail = [&](const std::string& key, const std::string& why) {
        std::string pointer = layer.pointer + (key.empty() ? "" : "/" + key);
        throw Error(ErrorKind::config, source + ": " + pointer + ": " + why, pointer);
    };
    switch (layer.type) {
        case LayerType::conv1d:
            if (layer.filters % layer.groups != 0)
                fail("groups", "filters (" + std::to_string(layer.filters) + ") must be divisible by groups (" +
                                   std::to_string(layer.groups) + ")");
            break;
        case LayerType::conv1d_transpose:
            if (layer.output_padding && *layer.output_padding >= layer.strides)
                fail("output_padding", "output_padding (" + std::to_string(*layer.output_padding) +
                                           ") must be less than strides (" + std::to_string(layer.strides) + ")");
            break;
        case LayerType::permute:
            if (!(layer.dims == std::vector<int64_t>{1, 2} || layer.dims == std::vector<int64_t>{2, 1}))
                fail("dims", "expected a permutation of [1, 2] (1-based, batch excluded), e.g. [2, 1]");
            break;
        case LayerType::reshape: {
            if (layer.target_shape.size() != 2)
                fail("target_shape", "expected two entries (batch excluded), e.g. [-1, 8]");
            int unknown = 0;
            for (size_t i = 0; i < layer.target_shape.size(); ++i) {
                if (layer.target_shape[i] == -1) ++unknown;
                else if (layer.target_shape[i] < 1)
                    fail("target_shape/" + std::to_string(i), "entries must be positive or -1");
            }
            if (unknown > 1) fail("target_shape", "at most one entry may be -1");
            break;
        }
        default: break;
    }
}

nlohmann::json read_json_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw Error(ErrorKind::input, path + ": is a directory, expected a JSON file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::input, path + ": cannot open: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error(ErrorKind::input, path + ": read error");
    std::string content = text.str();
    // Deep nesting would make later copies and messages recurse once per level: refuse it while parsing.
    constexpr int kMaxDepth = 256;
    struct TooDeep {
        size_t depth;
    };
    auto limit_depth = [](int depth, json::parse_event_t, json&) {
        if (depth > kMaxDepth) throw TooDeep{static_cast<size_t>(depth)};
        return true;
    };
    try {
        return json::parse(content, limit_depth);
    } catch (const TooDeep&) {
        throw Error(ErrorKind::config,
                    path + ": JSON nested deeper than " + std::to_string(kMaxDepth) + " levels; not a config");
    } catch (const json::parse_error& e) {
        // nlohmann gives a byte offset; turn it into line and column for people.
        size_t offset = e.byte == 0 ? 0 : std::min<size_t>(e.byte - 1, content.size());
        size_t line = 1, column = 1;
        for (size_t i = 0; i < offset; ++i) {
            if (content[i] == '\n') ++line, column = 1;
            else ++column;
        }
        std::string why = e.what();
        if (auto pos = why.find("syntax error"); pos != std::string::npos) why = why.substr(pos);
        throw Error(ErrorKind::config,
                    path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON at line " +
                        std::to_string(line) + ", column " + std::to_string(column) + ": " + why);
    } catch (const json::exception& e) {  // e.g. out_of_range.406: a number too large for a double
        std::string why = e.what();
        if (auto pos = why.find("] "); pos != std::string::npos) why = why.substr(pos + 2);
        throw Error(ErrorKind::config, path + ": invalid JSON: " + why);
    }
}

ConfigSpec parse_config(const nlohmann::json& config, const std::string& source) {
    ObjectReader top(config, "", source);
    ConfigSpec spec;
    spec.source = source;
    spec.name = top.string("name").value_or(std::filesystem::path(source).stem().string());
    top.string("description");
    spec.data_format = top.choice("data_format", DataFormat::channels_last,
                                  std::map<std::string, DataFormat>{{"channels_last", DataFormat::channels_last},
                                                                    {"channels_first", DataFormat::channels_first}});
    spec.input = read_input(top);
    const json* layers = top.find("layers");
    if (!layers) top.fail_missing("layers");
    if (!layers->is_array()) top.fail("/layers", "expected a list of layers, got " + describe(*layers));
    if (layers->empty()) top.fail("/layers", "the list of layers is empty");
    for (size_t i = 0; i < layers->size(); ++i)
        spec.layers.push_back(read_layer((*layers)[i], "/layers/" + std::to_string(i), source));
    spec.run = read_run(top);
    top.find("sweep");  // expanded before parsing (see sweep.hpp); left in place for the report
    top.finish();
    return spec;
}

}  // namespace c1r
