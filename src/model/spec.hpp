// Validated plain data read from a config: the input, the layer stack and the run settings.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace c1r {

enum class LayerType { conv1d, conv1d_transpose, max_pool1d, avg_pool1d, upsample1d, permute, reshape, activation };
enum class Activation { linear, relu, tanh, sigmoid, gelu, elu, swish };
enum class PaddingKind { valid, same, causal, explicit_pads };
enum class DataFormat { channels_last, channels_first };
enum class DType { f32, bf16 };
enum class Distribution { normal, uniform };

const char* to_string(LayerType type);
const char* to_string(Activation activation);
const char* to_string(PaddingKind kind);
const char* to_string(DType dtype);
std::optional<Activation> activation_from_string(const std::string& name);

// A shape as the user writes it, in the config's data format: (batch, length, channels) or (batch, channels, length).
using Dims3 = std::array<int64_t, 3>;

struct PaddingSpec {
    PaddingKind kind = PaddingKind::valid;
    int64_t left = 0;  // only for explicit_pads
    int64_t right = 0;
};

struct LayerSpec {
    LayerType type = LayerType::conv1d;
    std::string pointer;  // JSON pointer of the layer in its config, e.g. "/layers/2"
    std::string name;     // optional label (a Keras layer name), shown in messages
    int64_t filters = 0;
    int64_t kernel_size = 1;
    int64_t strides = 1;
    int64_t dilation_rate = 1;
    int64_t groups = 1;
    PaddingSpec padding;
    std::optional<int64_t> output_padding;
    bool use_bias = true;
    Activation activation = Activation::linear;
    int64_t pool_size = 2;
    int64_t size = 2;                   // upsample1d
    std::vector<int64_t> dims;          // permute, 1-based
    std::vector<int64_t> target_shape;  // reshape, batch excluded, one -1 allowed
    std::string kernel_file;            // weights.kernel, resolved against the config's folder; empty: glorot_uniform
    std::string bias_file;              // weights.bias; empty: zeros
};

struct InitSpec {
    Distribution distribution = Distribution::normal;
    double mean = 0.0, stddev = 1.0;
    double low = -1.0, high = 1.0;
    uint64_t seed = 0;
};

struct InputSpec {
    // Shape in the config's data format; entries may be -1 (unknown: Keras None) until filled.
    std::optional<Dims3> shape;
    InitSpec init;
    std::string file;  // .npy or .csv, resolved against the config's folder; empty: random input
};

struct RunSpec {
    int64_t warmup = 5;
    int64_t repeats = 50;
    int64_t threads = 0;  // 0 = auto
    DType dtype = DType::f32;
    std::optional<uint64_t> seed;  // weights seed; default: the input's seed
};

struct ConfigSpec {
    std::string source;  // the file it came from (as given on the command line)
    std::string name;
    DataFormat data_format = DataFormat::channels_last;
    InputSpec input;
    std::vector<LayerSpec> layers;
    RunSpec run;
};

// Parses and validates a config object (already JSON-decoded). `source` names the file in messages;
// relative file paths resolve against its folder. Throws Error(config) naming source and JSON pointer.
ConfigSpec parse_config(const nlohmann::json& config, const std::string& source);

// Reads a file as JSON; syntax errors name the file, line and column. Throws Error(input/config).
nlohmann::json read_json_file(const std::string& path);

// Checks that layer settings are in range (shared by the config parser and the Keras importer).
void validate_layer(const LayerSpec& layer, const std::string& source);

}  // namespace c1r
