// The kind table joined from its groups, lookups by name, and the readers every kind shares.
#include "layers/kind.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>

namespace c1r {
namespace {

struct Table {
    std::array<const LayerKind*, kLayerTypeCount> by_type{};
    std::vector<LayerKind> rows;
    Table() {
        for (const auto* group : {&kConvKinds, &kPoolKinds, &kShapeKinds, &kDenseKinds, &kNormKinds,
                                  &kActivationKinds, &kMergeKinds, &kRecurrentKinds})
            rows.insert(rows.end(), group->begin(), group->end());
        std::sort(rows.begin(), rows.end(), [](const LayerKind& a, const LayerKind& b) { return a.type < b.type; });
        for (const LayerKind& row : rows) {
            auto& slot = by_type[static_cast<size_t>(row.type)];
            if (slot) throw std::logic_error("two rows for layer kind " + std::string(row.name));
            slot = &row;
        }
        for (size_t i = 0; i < kLayerTypeCount; ++i)
            if (!by_type[i]) throw std::logic_error("layer kind " + std::to_string(i) + " has no row");
    }
};

const Table& table() {
    static const Table t;  // built once, read-only afterwards
    return t;
}

struct ActivationName {
    std::string_view name;
    Activation fn;
};
// Keras 3 names first; Keras 2 spellings after them.
constexpr ActivationName kActivationNames[] = {
    {"linear", Activation::linear},       {"relu", Activation::relu},
    {"tanh", Activation::tanh},           {"sigmoid", Activation::sigmoid},
    {"gelu", Activation::gelu},           {"elu", Activation::elu},
    {"swish", Activation::swish},         {"silu", Activation::swish},
    {"softmax", Activation::softmax},     {"log_softmax", Activation::log_softmax},
    {"relu6", Activation::relu6},         {"leaky_relu", Activation::leaky_relu},
    {"selu", Activation::selu},           {"softplus", Activation::softplus},
    {"softsign", Activation::softsign},   {"hard_sigmoid", Activation::hard_sigmoid},
    {"hard_silu", Activation::hard_silu}, {"hard_swish", Activation::hard_silu},
    {"exponential", Activation::exponential}, {"mish", Activation::mish},
    {"log_sigmoid", Activation::log_sigmoid}, {"gelu_tanh", Activation::gelu_tanh},
};

}  // namespace

const LayerKind& kind_of(LayerType type) { return *table().by_type.at(static_cast<size_t>(type)); }

const LayerKind* kind_by_name(std::string_view name) {
    for (const LayerKind& row : table().rows) {
        if (row.name == name) return &row;
        for (auto alias : row.aliases)
            if (alias == name) return &row;
    }
    return nullptr;
}

const LayerKind* kind_by_keras(std::string_view class_name) {
    for (const LayerKind& row : table().rows)
        for (auto keras : row.keras_names)
            if (keras == class_name) return &row;
    return nullptr;
}

std::span<const LayerKind> all_kinds() { return table().rows; }

std::string kind_names() {
    std::vector<std::string> names;
    for (const LayerKind& row : table().rows) {
        names.emplace_back(row.name);
        for (auto alias : row.aliases) names.emplace_back(alias);
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

const char* to_string(LayerType type) { return kind_of(type).name.data(); }

const char* to_string(Activation activation) {
    for (const auto& entry : kActivationNames)
        if (entry.fn == activation) return entry.name.data();
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

const char* to_string(PaddingMode mode) {
    switch (mode) {
        case PaddingMode::zeros: return "zeros";
        case PaddingMode::reflect: return "reflect";
        case PaddingMode::replicate: return "replicate";
        case PaddingMode::circular: return "circular";
    }
    return "?";
}

PaddingMode read_padding_mode(ObjectReader& r) {
    static const std::map<std::string, PaddingMode> kModes = {{"zeros", PaddingMode::zeros},
                                                              {"reflect", PaddingMode::reflect},
                                                              {"replicate", PaddingMode::replicate},
                                                              {"circular", PaddingMode::circular}};
    PaddingMode mode = r.choice("padding_mode", PaddingMode::zeros, kModes);
    r.record_json("padding_mode", to_string(mode));
    return mode;
}

const char* to_string(DType dtype) { return dtype == DType::bf16 ? "bf16" : "f32"; }

std::optional<Activation> activation_from_string(const std::string& name) {
    for (const auto& entry : kActivationNames)
        if (entry.name == name) return entry.fn;
    return std::nullopt;
}

std::string activation_names() {
    std::vector<std::string> names;
    for (const auto& entry : kActivationNames) names.emplace_back(entry.name);
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

ActivationSpec read_activation(ObjectReader& r, const std::string& key, Activation fallback) {
    ActivationSpec spec{fallback, false};
    const json* value = r.find(key);
    if (value && !value->is_null()) {
        if (!value->is_string()) r.fail(r.at(key), "expected an activation name, got " + describe(*value));
        auto fn = activation_from_string(value->get<std::string>());
        if (!fn)
            r.fail(r.at(key), "unknown value \"" + value->get<std::string>() + "\" (expected one of: " +
                                  activation_names() + ")");
        spec.fn = *fn;
    }
    r.record_json(key, to_string(spec.fn));  // Keras 2's hard_sigmoid keeps its flag below, so a round trip keeps it
    if (const json* v2 = r.find(key + "_keras2"); v2 && v2->is_boolean()) {
        spec.keras2 = v2->get<bool>();
        if (spec.keras2) r.record_json(key + "_keras2", true);
    }
    return spec;
}

std::string resolve_path(const std::string& path, const std::string& source) {
    std::filesystem::path p(path);
    if (p.is_absolute() || source.empty() || source == "-") return path;
    return (std::filesystem::path(source).parent_path() / p).lexically_normal().string();
}

PaddingSpec read_padding(ObjectReader& r, bool allow_causal, bool allow_explicit) {
    const json* value = r.find("padding");
    PaddingSpec padding;
    if (!value) {
        r.record_json("padding", "valid");
        return padding;
    }
    std::string pointer = r.at("padding");
    if (value->is_string()) {
        std::string text = value->get<std::string>();
        std::string lower = text;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == "valid") padding.kind = PaddingKind::valid;  // Keras also accepts 'VALID' and 'SAME'
        else if (lower == "same") padding.kind = PaddingKind::same;
        else if (lower == "causal" && allow_causal) padding.kind = PaddingKind::causal;
        else
            r.fail(pointer, "unknown padding \"" + text + "\" (expected " +
                                (!allow_causal && !allow_explicit ? std::string("valid or same")
                                                                  : std::string("valid, same") +
                                                                        (allow_causal ? ", causal" : "") +
                                                                        (allow_explicit ? ", an integer or [left, right]" : "")) +
                                ")");
        r.record_json("padding", to_string(padding.kind));
        return padding;
    }
    if (!allow_explicit) r.fail(pointer, "expected \"valid\" or \"same\", got " + describe(*value));
    const std::string words = allow_causal ? "\"valid\", \"same\", \"causal\"" : "\"valid\", \"same\"";
    if (value->is_number()) {
        padding.kind = PaddingKind::explicit_pads;
        padding.left = padding.right = r.integer_value(*value, pointer, 0);
    } else if (value->is_array() && value->size() == 2) {
        padding.kind = PaddingKind::explicit_pads;
        padding.left = r.integer_value((*value)[0], pointer + "/0", 0);
        padding.right = r.integer_value((*value)[1], pointer + "/1", 0);
    } else {
        r.fail(pointer, "expected " + words + ", an integer or [left, right], got " + describe(*value));
    }
    r.record_json("padding", json::array({padding.left, padding.right}));
    return padding;
}

void read_weight_files(ObjectReader& r, LayerSpec& layer) {
    const json* value = r.find("weights");
    if (!value || value->is_null()) return;
    ObjectReader w(*value, r.at("weights"), r.source());
    for (const auto& [name, file] : value->items()) {
        auto path = w.string(name);
        if (path) layer.weight_files[name] = resolve_path(*path, r.source());
    }
    r.record_json("weights", *value);
}

std::vector<int64_t> read_int_list(ObjectReader& r, const std::string& key, int64_t min_value) {
    const json* value = r.find(key);
    if (!value) r.fail_missing(key);
    if (!value->is_array()) r.fail(r.at(key), "expected a list of integers, got " + describe(*value));
    std::vector<int64_t> out;
    for (size_t i = 0; i < value->size(); ++i)
        out.push_back(r.integer_value((*value)[i], r.at(key) + "/" + std::to_string(i), min_value));
    r.record_json(key, out);
    return out;
}

LayerSpec read_layer(const json& object, const std::string& pointer, const std::string& source) {
    ObjectReader r(object, pointer, source);
    LayerSpec layer;
    layer.pointer = pointer;
    auto type = r.string("type");
    if (!type) r.fail_missing("type");
    const LayerKind* kind = kind_by_name(*type);
    if (!kind) r.fail(r.at("type"), "unknown value \"" + *type + "\" (expected one of: " + kind_names() + ")");
    layer.type = kind->type;
    r.record_json("type", *type);
    if (auto name = r.string("name")) {
        layer.name = *name;
        r.record_json("name", *name);
    }
    if (const json* inputs = r.find("inputs")) {
        if (inputs->is_string()) layer.inputs.push_back(inputs->get<std::string>());
        else if (inputs->is_array()) {
            for (size_t i = 0; i < inputs->size(); ++i) {
                if (!(*inputs)[i].is_string())
                    r.fail(r.at("inputs") + "/" + std::to_string(i), "expected a layer or input name, got " +
                                                                         describe((*inputs)[i]));
                layer.inputs.push_back((*inputs)[i].get<std::string>());
            }
        } else {
            r.fail(r.at("inputs"), "expected a list of layer or input names, got " + describe(*inputs));
        }
        r.record_json("inputs", layer.inputs);
    }
    kind->read(r, layer);
    r.finish();
    layer.keys = std::move(r.keys());
    return layer;
}

nlohmann::ordered_json write_layer(const LayerSpec& spec) { return spec.keys; }

}  // namespace c1r
