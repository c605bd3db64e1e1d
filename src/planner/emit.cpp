// The config writer behind `plan --emit-config` (see emit.hpp).
#include "planner/emit.hpp"

#include "plan/plan.hpp"

namespace c1r {
namespace {

bool is_conv(LayerType t) { return t == LayerType::conv1d || t == LayerType::conv1d_transpose; }

// A name, or explicit pads as the config writes them: an integer when both sides are equal, else [left, right].
nlohmann::ordered_json padding_json(const PaddingSpec& p) {
    if (p.kind != PaddingKind::explicit_pads) return to_string(p.kind);
    if (p.left == p.right) return p.left;
    return {p.left, p.right};
}

std::string padding_text(const PaddingSpec& p) {
    if (p.kind != PaddingKind::explicit_pads) return to_string(p.kind);
    return "pad[" + std::to_string(p.left) + "," + std::to_string(p.right) + "]";
}

std::string edges_text(const char* what, const std::pair<int64_t, int64_t>& e) {
    return std::string(what) + "[" + std::to_string(e.first) + "," + std::to_string(e.second) + "]";
}

}  // namespace

nlohmann::ordered_json layer_json(const LayerSpec& l, std::optional<int64_t> filters) {
    nlohmann::ordered_json j;
    j["type"] = to_string(l.type);
    switch (l.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            if (filters) j["filters"] = *filters;
            j["kernel_size"] = l.kernel_size;
            j["strides"] = l.strides;
            j["padding"] = padding_json(l.padding);
            j["dilation_rate"] = l.dilation_rate;
            if (l.type == LayerType::conv1d_transpose)
                j["output_padding"] = l.output_padding ? nlohmann::ordered_json(*l.output_padding) : nullptr;
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            j["pool_size"] = l.pool_size;
            j["strides"] = l.strides;
            j["padding"] = to_string(l.padding.kind);
            break;
        case LayerType::upsample1d:
            j["size"] = l.size;
            break;
        case LayerType::zero_padding1d:
            j["padding"] = {l.edges.first, l.edges.second};
            break;
        case LayerType::cropping1d:
            j["cropping"] = {l.edges.first, l.edges.second};
            break;
        default:
            break;
    }
    return j;
}

nlohmann::ordered_json config_json(const std::vector<LayerSpec>& layers, int64_t in_length,
                                   int64_t in_channels, int64_t out_channels) {
    nlohmann::ordered_json config;
    const int64_t out_length =
        make_plan(config_spec(layers, in_length, in_channels, out_channels), {1, in_length, in_channels})
            .output_shape.length;
    config["name"] = "plan-" + std::to_string(in_length) + "-to-" + std::to_string(out_length);
    config["description"] = "written by conv1d-reshape plan: the simplest setting found";
    config["input"] = {{"shape", {1, in_length, in_channels}}};
    config["layers"] = nlohmann::ordered_json::array();
    for (const auto& l : layers) config["layers"].push_back(layer_json(l, out_channels));
    return config;
}

ConfigSpec config_spec(const std::vector<LayerSpec>& layers, int64_t in_length, int64_t in_channels,
                       int64_t out_channels) {
    ConfigSpec config;
    config.source = "plan";
    config.name = "plan";
    config.input.shape = Dims3{1, in_length, in_channels};
    for (size_t i = 0; i < layers.size(); ++i) {
        LayerSpec l = layers[i];
        l.pointer = "/layers/" + std::to_string(i);
        // A name of its own: a graph plan chains an unnamed layer to the one before by that one's name, so
        // unnamed layers would read their own output. Not written by config_json.
        if (l.name.empty()) l.name = "layer_" + std::to_string(i);
        if (is_conv(l.type)) l.filters = out_channels;
        config.layers.push_back(std::move(l));
    }
    return config;
}

std::string settings_text(const LayerSpec& l) {
    std::string text;
    switch (l.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            text = "k" + std::to_string(l.kernel_size) + " s" + std::to_string(l.strides);
            if (l.dilation_rate > 1) text += " d" + std::to_string(l.dilation_rate);
            text += " " + padding_text(l.padding);
            if (l.output_padding) text += " op" + std::to_string(*l.output_padding);
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            text = "p" + std::to_string(l.pool_size) + " s" + std::to_string(l.strides) + " " +
                   to_string(l.padding.kind);
            break;
        case LayerType::upsample1d:
            text = "x" + std::to_string(l.size);
            break;
        case LayerType::zero_padding1d:
            text = edges_text("pad", l.edges);
            break;
        case LayerType::cropping1d:
            text = edges_text("crop", l.edges);
            break;
        default:
            break;
    }
    return text;
}

}  // namespace c1r
