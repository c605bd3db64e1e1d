// Stage "save" of a run: --save-output writes the model's outputs as .npy or .csv (checked before anything
// runs); --save-weights is in run/weights.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "core/error.hpp"
#include "io/npy.hpp"
#include "run/stages.hpp"

namespace c1r {
namespace {

// --save-output FILE (the first output) or NAME=FILE for any output: which output and which file.
std::pair<size_t, std::string> save_target(const Plan& plan, const std::string& entry) {
    auto eq = entry.find('=');
    if (eq == std::string::npos) return {0, entry};
    const std::string name = entry.substr(0, eq);
    auto it = std::find_if(plan.output_tensors.begin(), plan.output_tensors.end(),
                           [&](int t) { return plan.tensors[static_cast<size_t>(t)].name == name; });
    if (it != plan.output_tensors.end())
        return {static_cast<size_t>(it - plan.output_tensors.begin()), entry.substr(eq + 1)};
    if (name.find('/') == std::string::npos && name.find('.') == std::string::npos) {
        std::string names;
        for (int t : plan.output_tensors)
            names += (names.empty() ? "" : ", ") + plan.tensors[static_cast<size_t>(t)].name;
        throw Error(ErrorKind::usage, "--save-output " + entry + ": the model has no output \"" + name +
                                          "\" (its outputs: " + names + ")");
    }
    return {0, entry};  // a file name that holds '='
}

std::vector<std::string> save_entries(const RunOverrides& overrides) {
    std::vector<std::string> saves = overrides.more_outputs;
    if (!overrides.save_output.empty()) saves.insert(saves.begin(), overrides.save_output);
    return saves;
}

// One sequence as CSV: a row per step, a column per channel, numbers in their shortest exact form with a dot.
void write_csv(const std::string& path, const Tensor& tensor) {
    const int64_t steps = tensor.shape.length, channels = tensor.shape.channels;
    write_file_atomically(path, [&](const ChunkWriter& write) {
        std::string chunk;
        for (int64_t t = 0; t < steps; ++t) {
            for (int64_t c = 0; c < channels; ++c) {
                if (c) chunk += ',';
                fmt::format_to(std::back_inserter(chunk), "{}",
                               tensor.data[static_cast<size_t>(t * channels + c)]);
            }
            chunk += '\n';
            if (chunk.size() > (1 << 20)) write(chunk.data(), chunk.size()), chunk.clear();
        }
        write(chunk.data(), chunk.size());
    });
}

}  // namespace

void check_output_shapes(const Plan& plan, const RunOverrides& overrides) {
    for (const std::string& entry : save_entries(overrides)) {
        auto [k, file] = save_target(plan, entry);
        if (lower_extension(file) != ".csv") continue;
        const TensorInfo& t = plan.tensors[static_cast<size_t>(plan.output_tensors[k])];
        const std::string what = "--save-output " + entry +
                                 ": a CSV file holds one sequence (rows = steps, "
                                 "columns = channels), but output \"" +
                                 t.name + "\" is " + shape_text(t.shape, plan.data_format);
        if (t.shape.rank != 3) throw Error(ErrorKind::usage, what + ", which has no steps; save it as .npy");
        if (t.shape.batch != 1)
            throw Error(ErrorKind::usage,
                        what + ", a batch of " + std::to_string(t.shape.batch) + "; save it as .npy");
    }
}

void save_outputs(const Plan& plan, const Network& network, const RunOverrides& overrides) {
    for (const std::string& entry : save_entries(overrides)) {
        auto [k, file] = save_target(plan, entry);
        const Shape& shape = plan.tensors[static_cast<size_t>(plan.output_tensors[k])].shape;
        if (lower_extension(file) == ".csv") {
            write_csv(file, network.output(k));  // rows are steps in both data formats, as --input reads them
            continue;
        }
        // In the output's axis order (the data format's unless the config gives a layout): a host transpose.
        const std::string& layout = plan.output_layouts.at(k);
        std::vector<float> values = tensor_to_layout(network.output(k), layout);
        write_npy(file, layout_dims(shape, layout), values.data(), values.size());
    }
}

}  // namespace c1r
