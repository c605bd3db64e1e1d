// One point of a config's sweep (SPEC §3): the config with each swept JSON pointer set to the point's value.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace c1r {

// `base` (the config without its "sweep") with every pointer of `point` ({pointer: value}) set. A pointer may
// name a layer key the config leaves at its default (/layers/0/strides where strides is not written): the key
// is filled in from the layer kind's reader, which records every key with its default, and then set. Pointers
// to keys that are written are set first, so a default is read from the point's own settings. Throws
// Error(config) naming `source` and /sweep/<pointer> for a pointer that names nothing, not even a defaulted
// key (the message lists the layer kind's keys), and the layer's own error when it cannot be read.
nlohmann::json apply_sweep_point(const nlohmann::json& base, const nlohmann::json& point, const std::string& source);

}  // namespace c1r
