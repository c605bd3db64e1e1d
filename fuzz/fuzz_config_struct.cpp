// libFuzzer target with a structure-aware mutator: inputs stay JSON configs (seeded from configs/) and
// mutations work on keys and values — swap in edge-case numbers, known keys and enum strings, drop and add
// keys, duplicate, reorder and retype layers, add sweeps — so most inputs reach the validator and make_plan.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config_target.hpp"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using nlohmann::json;
using Rng = std::mt19937_64;

const char* const kKeys[] = {
    "type", "filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "use_bias", "activation",
    "weights", "output_padding", "pool_size", "size", "dims", "target_shape", "name", "description",
    "data_format", "input", "shape", "init", "file", "distribution", "mean", "stddev", "low", "high", "seed",
    "layers", "run", "warmup", "repeats", "threads", "dtype", "sweep", "kernel", "bias"};

const char* const kStrings[] = {
    "conv1d", "conv1d_transpose", "max_pool1d", "avg_pool1d", "upsample1d", "permute", "reshape", "activation",
    "valid", "same", "causal", "full", "linear", "relu", "tanh", "sigmoid", "gelu", "elu", "swish", "silu",
    "softmax", "auto", "f32", "bf16", "f16", "channels_first", "channels_last", "normal", "uniform", "", "x.npy",
    "x.csv", "/layers/0/kernel_size", "/input/shape/1", "/layers/0", "/", "~1", "\xc3\xa9"};

json interesting_value(Rng& rng) {
    static const json kValues[] = {
        0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 64, 1000, 4096, 65536, -1, -2, 2147483647, 2147483648LL,
        2147483649LL, 4294967296LL, 1099511627776LL, 9223372036854775807LL, (-9223372036854775807LL - 1),
        18446744073709551615ULL, 0.5, 3.0, -0.0, 1e12, 1e308, -1e308, true, false, nullptr,
        json::array(), json::object(), json::array({1}), json::array({2, 1}), json::array({1, 2}),
        json::array({-1, 8}), json::array({-1, -1}), json::array({0, 0}), json::array({3, 1}),
        json::array({1, 20, 32}), json::array({1, 1, 1}), json::array({1, 2147483648LL, 4096}),
        json::array({1, 20}),
    };
    const size_t n_values = std::size(kValues), n_strings = std::size(kStrings);
    const size_t pick = rng() % (n_values + n_strings);
    if (pick < n_values) return kValues[pick];
    return kStrings[pick - n_values];
}

json random_layer(Rng& rng) {
    static const char* const kTypes[] = {"conv1d", "conv1d_transpose", "max_pool1d", "avg_pool1d",
                                         "upsample1d", "permute", "reshape", "activation"};
    json layer = {{"type", kTypes[rng() % std::size(kTypes)]}};
    const std::string type = layer["type"];
    auto small = [&] { return static_cast<int64_t>(1 + rng() % 9); };
    if (type == "conv1d" || type == "conv1d_transpose") {
        layer["filters"] = small();
        layer["kernel_size"] = small();
        if (rng() % 2) layer["strides"] = small();
        if (rng() % 2) layer["padding"] = rng() % 2 ? "same" : "valid";
        if (rng() % 3 == 0) layer["dilation_rate"] = small();
        if (type == "conv1d_transpose" && rng() % 3 == 0) layer["output_padding"] = static_cast<int64_t>(rng() % 3);
    } else if (type == "max_pool1d" || type == "avg_pool1d") {
        layer["pool_size"] = small();
        if (rng() % 2) layer["strides"] = small();
    } else if (type == "upsample1d") {
        layer["size"] = small();
    } else if (type == "permute") {
        layer["dims"] = {2, 1};
    } else if (type == "reshape") {
        layer["target_shape"] = {-1, small()};
    } else {
        layer["activation"] = "relu";
    }
    return layer;
}

// Every value in the document, depth first, and the container it sits in (null for the root).
void collect(json& value, json* parent, std::vector<std::pair<json*, json*>>& out) {
    out.emplace_back(&value, parent);
    if (value.is_object() || value.is_array())
        for (auto& child : value) collect(child, &value, out);
}

json number_neighbour(const json& value, Rng& rng) {
    if (value.is_number_integer()) {
        const int64_t n = value.get<int64_t>();
        switch (rng() % 6) {
            case 0: return n == INT64_MAX ? json(static_cast<uint64_t>(n) + 1) : json(n + 1);
            case 1: return n == INT64_MIN ? json(-9.3e18) : json(n - 1);
            case 2: return n > (int64_t{1} << 61) || n < -(int64_t{1} << 61) ? json(n) : json(n * 2);
            case 3: return n == INT64_MIN ? json(n) : json(-n);
            case 4: return static_cast<double>(n);
            default: return json::array({n});  // Keras writes kernel_size as [3]
        }
    }
    return value.get<double>() * (rng() % 2 ? 2.0 : -0.5);
}

void mutate(json& document, Rng& rng) {
    std::vector<std::pair<json*, json*>> nodes;
    collect(document, nullptr, nodes);
    auto [node, parent] = nodes[rng() % nodes.size()];
    switch (rng() % 10) {
        case 0:  // replace any value
            *node = interesting_value(rng);
            break;
        case 1:  // nudge a number
            if (node->is_number()) *node = number_neighbour(*node, rng);
            else *node = interesting_value(rng);
            break;
        case 2:  // add or overwrite a known key
            if (node->is_object()) (*node)[kKeys[rng() % std::size(kKeys)]] = interesting_value(rng);
            break;
        case 3:  // drop a key or an element
            if (node->is_object() && !node->empty()) {
                auto it = node->begin();
                std::advance(it, static_cast<long>(rng() % node->size()));
                node->erase(it.key());
            } else if (node->is_array() && !node->empty()) {
                node->erase(rng() % node->size());
            }
            break;
        case 4:  // duplicate an element of a list
            if (node->is_array() && !node->empty() && node->size() < 64) node->push_back((*node)[rng() % node->size()]);
            break;
        case 5: {  // add, swap or retype layers
            json* layers = document.is_object() && document.contains("layers") ? &document["layers"] : nullptr;
            if (!layers || !layers->is_array()) break;
            if (layers->empty() || rng() % 3 == 0) {
                if (layers->size() < 32) layers->insert(layers->begin() + static_cast<long>(rng() % (layers->size() + 1)), random_layer(rng));
            } else if (rng() % 2) {
                std::swap((*layers)[rng() % layers->size()], (*layers)[rng() % layers->size()]);
            } else {
                json& layer = (*layers)[rng() % layers->size()];
                if (layer.is_object()) layer["type"] = random_layer(rng)["type"];
            }
            break;
        }
        case 6: {  // sweep a value that exists (the pointer of a random node)
            if (!document.is_object() || node == &document) break;
            std::string pointer;
            // Rebuild the pointer by searching the node: cheap at these sizes.
            const json flat = document.flatten();
            for (const auto& item : flat.items()) {
                if (document[json::json_pointer(item.key())] == *node) {
                    pointer = item.key();
                    break;
                }
            }
            if (pointer.empty()) break;
            json values = json::array({*node, interesting_value(rng)});
            if (!document["sweep"].is_object()) document["sweep"] = json::object();
            document["sweep"][pointer] = values;
            break;
        }
        case 7:  // an interesting string in place of a string
            if (node->is_string()) *node = kStrings[rng() % std::size(kStrings)];
            else *node = interesting_value(rng);
            break;
        case 8:  // a parent's value moved to a sibling position: wrong nesting
            if (parent && parent->is_object()) (*parent)[kKeys[rng() % std::size(kKeys)]] = *node;
            break;
        default:  // a fresh random layer appended
            if (document.is_object() && document.contains("layers") && document["layers"].is_array() &&
                document["layers"].size() < 32)
                document["layers"].push_back(random_layer(rng));
            break;
    }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
    Rng rng(seed);
    json document = json::parse(data, data + size, nullptr, false);
    if (document.is_discarded() || rng() % 20 == 0) return LLVMFuzzerMutate(data, size, max_size);
    const int rounds = 1 + static_cast<int>(rng() % 3);
    try {
        for (int i = 0; i < rounds; ++i) mutate(document, rng);
    } catch (const json::exception&) {  // a mutation that does not apply to this document: mutate bytes instead
        return LLVMFuzzerMutate(data, size, max_size);
    }
    const std::string text = document.dump(rng() % 4 == 0 ? 2 : -1);
    if (text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
    std::memcpy(data, text.data(), text.size());
    return text.size();
}

// Crossover: layers of one config spliced into another.
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                                            uint8_t* out, size_t max_out_size, unsigned int seed) {
    Rng rng(seed);
    json first = json::parse(data1, data1 + size1, nullptr, false);
    json second = json::parse(data2, data2 + size2, nullptr, false);
    auto layers_of = [](json& d) -> json* {
        return d.is_object() && d.contains("layers") && d["layers"].is_array() && !d["layers"].empty() ? &d["layers"]
                                                                                                         : nullptr;
    };
    json* to = layers_of(first);
    json* from = layers_of(second);
    if (!to || !from) return 0;
    const json& layer = (*from)[rng() % from->size()];
    if (rng() % 2 && to->size() < 32) to->push_back(layer);
    else (*to)[rng() % to->size()] = layer;
    const std::string text = first.dump();
    if (text.size() > max_out_size) return 0;
    std::memcpy(out, text.data(), text.size());
    return text.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    c1r::fuzz::run_config_bytes(data, size);
    return 0;
}
