// The config writer behind `plan --emit-config`: planner results as config JSON (SPEC §3) and as plain data.
// Not planner work; it lives here until it moves next to the config reader. planner.hpp includes it, so
// callers of the planner see it as before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/spec.hpp"

namespace c1r {

// The layer's object in the config's own keys, only those that apply to its type; `filters` added for conv
// types.
nlohmann::ordered_json layer_json(const LayerSpec& layer, std::optional<int64_t> filters = std::nullopt);

// A runnable config (SPEC §3) for the layers: input shape [1, in_length, in_channels], conv filters =
// out_channels.
nlohmann::ordered_json config_json(const std::vector<LayerSpec>& layers, int64_t in_length,
                                   int64_t in_channels, int64_t out_channels);

// The same as plain data, ready for make_plan (channels_last, batch 1).
ConfigSpec config_spec(const std::vector<LayerSpec>& layers, int64_t in_length, int64_t in_channels,
                       int64_t out_channels);

// Short settings text without filters, e.g. "k2 s2 valid", "k3 s2 d2 same op1", "k3 s1 pad[2,2]", "p2 s2 valid",
// "x2", "crop[2,3]", "pad[1,1]" (zero_padding1d).
std::string settings_text(const LayerSpec& layer);

}  // namespace c1r
