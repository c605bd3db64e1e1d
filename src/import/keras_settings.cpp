// Keras layer settings as ours (keras_parts.hpp): Keras 1 names, dropped training-only keys, version defaults.
#include <set>
#include <map>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "import/keras_parts.hpp"

namespace c1r::keras_import {
namespace {

using nlohmann::json;

// Settings that do not change the forward pass at inference: training-only, bookkeeping, or numeric policy
// that --dtype controls instead. Keys ending in _initializer, _regularizer or _constraint go too.
const std::set<std::string> kIgnoredSettings = {
    "name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape", "input_length", "autocast",
    "activity_regularizer", "lora_rank", "lora_alpha", "dtype_policy", "data_format", "build_config", "module",
    "registered_name", "init", "inner_init", "dropout_W", "dropout_U", "consume_less", "forget_bias_init",
    "synchronized", "fused", "virtual_batch_size", "adjustment", "renorm_clipping", "renorm_momentum",
    "quantization_config", "sparse", "ragged", "W_regularizer", "b_regularizer", "U_regularizer", "W_constraint",
    "b_constraint", "U_constraint", "weights", "mode", "gamma_regularizer", "beta_regularizer", "input_dtype",
    "zero_output_for_mask",
};

// Keras 1 argument names and their Keras 2 spellings (keras/legacy/interfaces.py).
const std::map<std::string, std::string> kKeras1Names = {
    {"nb_filter", "filters"}, {"filter_length", "kernel_size"}, {"subsample_length", "strides"},
    {"border_mode", "padding"}, {"pool_length", "pool_size"}, {"stride", "strides"},
    {"inner_activation", "recurrent_activation"}, {"atrous_rate", "dilation_rate"}, {"p", "rate"},
    {"sigma", "stddev"}, {"bias", "use_bias"}, {"length", "size"},
};

[[noreturn]] void fail(const SettingsContext& context, const std::string& pointer, const std::string& why) {
    throw Error::at(ErrorKind::config, context.source, pointer, why);
}

}  // namespace

// keras.src.utils.naming.to_snake_case: drop non-word characters, then "(.)([A-Z][a-z]+)" -> "\1_\2", then
// "([a-z])([A-Z])" -> "\1_\2", then lower case (written out: std::regex recurses per character).
std::string snake_case(const std::string& name) {
    auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    std::string word;
    for (char c : name)
        if (upper(c) || lower(c) || (c >= '0' && c <= '9') || c == '_' ||
            static_cast<unsigned char>(c) >= 0x80)
            word += c;
    std::string step;
    for (size_t i = 0; i < word.size();) {
        if (i + 2 < word.size() && upper(word[i + 1]) && lower(word[i + 2])) {
            size_t end = i + 3;
            while (end < word.size() && lower(word[end])) ++end;
            step += word[i];
            step += '_';
            step.append(word, i + 1, end - i - 1);
            i = end;
        } else {
            step += word[i++];
        }
    }
    std::string out;
    for (size_t i = 0; i < step.size();) {
        if (i + 1 < step.size() && lower(step[i]) && upper(step[i + 1])) {
            out += step[i];
            out += '_';
            out += step[i + 1];
            i += 2;
        } else {
            out += step[i++];
        }
    }
    for (char& c : out)
        if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Keras config keys to our keys: Keras 1 names, training-only settings dropped, version defaults made
// explicit (Keras 2 hard_sigmoid, GRU reset_after).
json translate_settings(const std::string& cls, const LayerKind& kind, const json& cfg, const std::string& pointer,
                    const SettingsContext& context) {
    json out = json::object();
    for (const auto& [raw_key, value] : cfg.items()) {
        std::string key = raw_key;
        if (auto it = kKeras1Names.find(key); it != kKeras1Names.end()) key = it->second;
        if (key == "output_dim" && kind.type != LayerType::embedding) key = "units";
        if (kIgnoredSettings.count(key) || ends_with(key, "_initializer") || ends_with(key, "_regularizer") ||
            ends_with(key, "_constraint"))
            continue;
        if (key == "input_dim" && kind.type != LayerType::embedding) continue;
        if ((key == "renorm" || key == "unroll" || key == "stateful" || key == "time_major") && value == false) continue;
        if (key == "groups" && kind.type == LayerType::conv1d_transpose && value == 1) continue;
        if (key == "layer" && (kind.type == LayerType::bidirectional || kind.type == LayerType::time_distributed)) {
            if (!value.is_object() || !value.contains("class_name") || !value.contains("config"))
                fail(context, pointer + "/layer", "expected the wrapped layer {class_name, config}");
            const std::string inner_cls = value["class_name"].get<std::string>();
            const LayerKind* inner = kind_by_keras(inner_cls);
            if (!inner) fail(context, pointer + "/layer/class_name", inner_cls + " cannot be wrapped here");
            json inner_out = translate_settings(inner_cls, *inner, value["config"], pointer + "/layer/config", context);
            inner_out["type"] = type_name(inner_cls, *inner);
            if (value["config"].contains("name")) inner_out["name"] = value["config"]["name"];
            // Keras 3 writes a Bidirectional's wrapped layer as its forward half, already named
            // "forward_<name>" ("forward_" + removeprefix(name, "forward_")); our halves add the prefix
            // themselves, so keep <name>. Keras 2 keeps the original layer's name and always prefixes.
            if (!context.keras2 && kind.type == LayerType::bidirectional && inner_out.contains("name") &&
                inner_out["name"].is_string()) {
                const std::string inner_name = inner_out["name"].get<std::string>();
                if (inner_name.rfind("forward_", 0) == 0 && inner_name.size() > 8)
                    inner_out["name"] = inner_name.substr(8);
            }
            out["layer"] = inner_out;
            continue;
        }
        if (key == "backward_layer") continue;
        // Keras writes None for "the default"; keys where null means something are kept.
        if (value.is_null() && key != "max_value" && key != "shared_axes" && key != "merge_mode" &&
            key != "strides" && key != "output_padding")
            continue;  // Keras writes the backward copy's config too; same settings
        if (key == "activation" && value.is_object() && value.contains("class_name")) {
            out[key] = snake_case(value["class_name"].get<std::string>());
            continue;
        }
        out[key] = value;
    }
    if (context.keras2) {
        for (const char* k : {"activation", "recurrent_activation"})
            if (out.contains(k) && out[k] == "hard_sigmoid") out[std::string(k) + "_keras2"] = true;
        if (kind.type == LayerType::gru && !out.contains("reset_after")) out["reset_after"] = false;
        if ((kind.type == LayerType::lstm || kind.type == LayerType::gru) && !out.contains("recurrent_activation")) {
            out["recurrent_activation"] = "hard_sigmoid";  // Keras 1 and 2.0-2.2, TF.js
            out["recurrent_activation_keras2"] = true;
        }
    }
    if (kind.type == LayerType::activation && cls == "Activation" && !out.contains("activation"))
        out["activation"] = "linear";
    if (kind.type == LayerType::upsample1d && context.data_format == DataFormat::channels_first)
        fail(context, pointer + "/size", "UpSampling1D repeats axis 1, the channel axis of this channels_first model; "
                                "conv1d-reshape's upsample1d repeats steps");
    return out;
}

std::string type_name(const std::string& cls, const LayerKind& kind) {
    if (kind.type == LayerType::dropout) {
        const std::string snake = snake_case(cls);
        return kind_by_name(snake) ? snake : std::string(kind.name);
    }
    return std::string(kind.name);
}

}  // namespace c1r::keras_import
