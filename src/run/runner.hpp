// Runs one config: input, plan, weights, oneDNN execution, timing, verification; the result is a RunRecord.
// The stages are declared in run/stages.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "import/keras_file.hpp"
#include "network/network.hpp"
#include "report/report.hpp"

namespace c1r {

// Command-line settings that override a config's run section (SPEC §2).
struct RunOverrides {
    std::string input_file;
    std::optional<uint64_t> seed;
    std::optional<int64_t> warmup, repeats;
    std::optional<int64_t> threads;  // 0 = auto
    std::optional<DType> dtype;
    std::string save_output;
    std::vector<std::string> more_inputs;   // NAME=FILE for further model inputs
    std::vector<std::string> more_outputs;  // NAME=FILE for further model outputs
    std::string weights_dir;               // --weights DIR
    std::string save_weights_dir;          // --save-weights DIR
    bool verify = false;
    bool dry_run = false;
    std::optional<int64_t> batch, length;
    int64_t max_memory = 0;  // bytes; 0 = no limit
    double timeout_seconds = 0;  // per run; 0 = none
};

// One unit of work in a batch: a config object from a file, possibly one point of its sweep.
struct RunItem {
    std::string source;
    nlohmann::json config;        // our config format (Keras models already converted); null for a sweep point
    nlohmann::json point;         // null, or {pointer: value}
    std::optional<std::string> name;
    std::optional<Error> error;   // the file could not be read or expanded
    // A sweep's points share one copy of the config (a big sweep of a big config stays small in memory);
    // resolved() writes the point's values into a copy when the point runs.
    std::shared_ptr<const nlohmann::json> base = nullptr;
    // A trained model file's own weights (.h5, .keras, TF.js): by layer name and Keras variable name.
    std::shared_ptr<const NamedWeights> weights = nullptr;

    // The config to run: `config`, or `base` with the point applied. Throws Error(config) for a point whose
    // pointer the config does not have.
    nlohmann::json resolved() const;
};

// Reads the input a config asks for: a .npy/.csv file or random values; returns it in the tool's layout.
Tensor load_input(const ConfigSpec& config, const InputSpec& in, const std::string& input_file, Shape& shape,
                  std::string& source);

// The weights of every layer: from the config's .npy files where given, otherwise Keras defaults from the seed.
// With `weights_dir`, every variable comes from DIR/<layer name>/<variable>.npy and a missing file is an error;
// with `file_weights` (a model file's), every variable comes from there and a missing or extra one is an error.
std::vector<LayerWeights> load_weights(const Plan& plan, uint64_t seed, const std::string& source,
                                       const std::string& weights_dir = {},
                                       const NamedWeights* file_weights = nullptr);

// Runs one item. Errors of the item itself come back inside the record (record.error), never as exceptions.
RunRecord run_item(Context& context, const RunItem& item, const RunOverrides& overrides);

// A run's work for the progress line's time left: FLOPs times forward passes plus a fixed cost per run (1 per
// run under --dry-run); -1 when it is not known without reading input files, or the item fails.
double estimated_work(const RunItem& item, const RunOverrides& overrides);

// A path's extension in lower case, with its dot: ".npy"; "" when it has none.
std::string lower_extension(const std::string& path);

// Default --max-memory: a safe share of physical memory.
int64_t default_max_memory();

}  // namespace c1r
