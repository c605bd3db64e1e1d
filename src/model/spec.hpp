// A validated config: its inputs, the layer graph (nodes naming the tensors they read) and the run settings.
// Configs, Keras documents and model files all arrive here (import/); every stage above reads this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/layer.hpp"
#include "layers/shape.hpp"

namespace c1r {

struct InitSpec {
    Distribution distribution = Distribution::normal;
    double mean = 0.0, stddev = 1.0;
    double low = -1.0, high = 1.0;
    uint64_t seed = 0;
};

struct InputSpec {
    std::string name = "input";
    // Shape in the config's data format; entries may be -1 (unknown: Keras None) until filled. Rank 2 gives
    // (batch, features) and is held as (batch, 1, features) with `rank2` set.
    std::optional<Dims3> shape;
    bool rank2 = false;
    // The axis order of its file and of `shape` in the config (layers/layout.hpp), e.g. "LBC"; empty: the data
    // format's. `shape` above is converted to the data format's order when read.
    std::string layout;
    InitSpec init;
    std::string file;  // .npy or .csv, resolved against the config's folder; empty: random input
    std::string pointer = "/input";
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
    InputSpec input;                    // the first (often only) model input
    std::vector<InputSpec> more_inputs;  // further named model inputs
    std::vector<LayerSpec> layers;      // every layer with its name and the tensors it reads
    std::vector<std::string> outputs;   // model outputs; empty: the last layer
    std::vector<std::string> output_layouts;  // one per entry of `outputs`: its axis order, empty: the default
    RunSpec run;

    std::vector<const InputSpec*> inputs() const {
        std::vector<const InputSpec*> all{&input};
        for (const auto& i : more_inputs) all.push_back(&i);
        return all;
    }
};

// Parses and validates a config object (already JSON-decoded). `source` names the file in messages;
// relative file paths resolve against its folder. Throws Error(config) naming source and JSON pointer.
ConfigSpec parse_config(const nlohmann::json& config, const std::string& source);

// What messages and reports call a config path: the path itself, or <stdin> for "-".
std::string source_name(const std::string& path);

// The whole of a file ("-": standard input, read to its end). Throws Error(input) for a folder, a file that
// cannot be opened and a read error.
std::string read_text_file(const std::string& path);

// Parses JSON text; syntax errors name `source`, line and column. Throws Error(config).
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

// read_text_file + parse_json_text, the messages naming source_name(path) ("-": <stdin>).
nlohmann::json read_json_file(const std::string& path);

}  // namespace c1r
