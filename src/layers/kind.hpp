// The layer-kind table: one row per kind with everything the tool knows about it below oneDNN — its names,
// how its keys are read (configs and importers share the reader) and written back, its shape rule, its index
// map (receptive field and jump), its weight variables (and so its params) and its summary text.
// The oneDNN unit builders (C1R_UNIT in network/units_*.cpp) and the references (C1R_REFERENCE in
// reference/) are dispatched from the kind list C1R_LAYER_KINDS (layers/layer.hpp), so a kind without its unit
// or its reference does not link; a kind without its row here is named by kind.cpp's table check at startup.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layers/reader.hpp"
#include "layers/shape.hpp"

namespace c1r {

struct PlanContext {
    DataFormat data_format = DataFormat::channels_last;
    std::string source;  // the config file, for messages
};

// Thrown by a kind's plan function: the message without location; the planner adds the layer and pointer.
struct LayerError {
    LayerError(std::string what, std::string about = {}) : message(std::move(what)), key(std::move(about)) {}
    std::string message;
    std::string key;  // the key it is about, appended to the layer's pointer; empty: the layer itself
};

struct LayerKind {
    LayerType type;
    std::string_view name;                          // config "type", e.g. "upsample1d"
    std::vector<std::string_view> aliases;          // further config names of the same kind
    std::vector<std::string_view> keras_names;      // Keras classes read as this kind
    int min_inputs = 1, max_inputs = 1;             // merges take 2 or more (max -1: any number)
    void (*read)(ObjectReader& reader, LayerSpec& spec);          // keys and defaults (records them)
    void (*plan)(LayerPlan& node, const PlanContext& context);    // output shapes, padding, flops
    Span (*input_span)(const LayerPlan& node, Span out);          // index map; nullptr: step to same step
    bool (*mixes_axes)(const LayerPlan& node);                    // length and channels mix: no RF after it
    std::vector<Variable> (*variables)(const LayerPlan& node);    // weights in Keras layout; nullptr: none
    std::string (*summary)(const LayerSpec& spec);
};

// The row of a kind; by config name (aliases too) or Keras class name, nullptr when unknown.
const LayerKind& kind_of(LayerType type);
const LayerKind* kind_by_name(std::string_view name);
const LayerKind* kind_by_keras(std::string_view class_name);
std::span<const LayerKind> all_kinds();
// Every config type name, sorted, for messages.
std::string kind_names();

// Activation names (Keras' and ours); nullptr-like empty optional when unknown.
std::optional<Activation> activation_from_string(const std::string& name);
std::string activation_names();
// Reads an "activation"-like key: a name from activation_from_string. Records it.
ActivationSpec read_activation(ObjectReader& r, const std::string& key, Activation fallback);

// Reads "padding" for windowed kinds (string valid/same[/causal], or explicit pads). Records it.
PaddingSpec read_padding(ObjectReader& r, bool allow_causal, bool allow_explicit);
// Reads "padding_mode" (zeros, reflect, replicate, circular; default zeros). Records it.
PaddingMode read_padding_mode(ObjectReader& r);
// Reads "weights": {variable: file} against the config's folder.
void read_weight_files(ObjectReader& r, LayerSpec& layer);
std::vector<int64_t> read_int_list(ObjectReader& r, const std::string& key, int64_t min_value);
std::string resolve_path(const std::string& path, const std::string& source);

// The kind's reader over a layer object, `type` included; validates ranges. Throws Error(config).
LayerSpec read_layer(const json& object, const std::string& pointer, const std::string& source);
// The inverse: the layer object with every key (defaults filled), for --emit-config, sweeps and tests.
nlohmann::ordered_json write_layer(const LayerSpec& spec);

// Group tables, one per file layers/kinds_<group>.cpp; kind.cpp joins them in LayerType order.
extern const std::vector<LayerKind> kConvKinds, kPoolKinds, kShapeKinds, kDenseKinds, kNormKinds,
    kActivationKinds, kMergeKinds, kRecurrentKinds;

}  // namespace c1r
