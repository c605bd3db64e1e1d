// Weights of a run: loaded (config files, --weights DIR, a model file's own) or Keras defaults from the seed;
// batch normalisation folded for the network; --save-weights writes them back in the layout --weights reads.
#include <filesystem>
#include <map>
#include <set>

#include "core/error.hpp"
#include "io/npy.hpp"
#include "layers/kind.hpp"
#include "run/stages.hpp"

namespace c1r {
namespace {

// A layer_normalization over every axis, the batch too (axis [0, 1, 2]), has gamma/beta shaped like its input
// (batch, length, channels): weights made for another batch size (a model file's, or --batch changed) are
// named as such, with both batch sizes.
void check_tied_batch(const LayerPlan& layer, const Variable& v, const std::vector<int64_t>& got,
                      const std::string& where) {
    if (!normalises_batch(layer) || got.size() != 3 || v.shape.size() != 3 || got == v.shape ||
        got[1] != v.shape[1] || got[2] != v.shape[2])
        return;
    throw Error(ErrorKind::input,
                where + ": layer " + std::to_string(layer.index) + " '" + layer.spec.name +
                    "' (layer_normalization over axis [0, 1, 2], the batch too): its " + v.name + " " +
                    dims_text(got) + " is for batch " + std::to_string(got[0]) + ", but the input's batch is " +
                    std::to_string(v.shape[0]) + " (normalising over the batch ties the weights to its size)",
                layer.spec.pointer);
}

}  // namespace

std::vector<LayerWeights> load_weights(const Plan& plan, uint64_t seed, const std::string& source,
                                       const std::string& weights_dir, const NamedWeights* file_weights) {
    std::vector<LayerWeights> all;
    std::map<std::string, size_t> by_name;
    for (const auto& layer : plan.layers) {
        const LayerSpec& s = layer.spec;
        if (!s.shared_with.empty() && by_name.count(s.shared_with)) {  // a repeated call: the same weights
            all.push_back(all[by_name[s.shared_with]]);
            continue;
        }
        by_name[s.name] = all.size();
        LayerWeights w = default_weights(layer, seed);
        auto variables = kind_of(s.type).variables;
        std::set<std::string> known;
        if (variables) {
            for (const Variable& v : variables(layer)) {
                known.insert(v.name);
                std::string file;
                if (file_weights) {  // a model file's own weights: bidirectional halves are
                                     // "<name>/forward_<inner>"
                    std::string layer_key = s.name, var = v.name;
                    if (auto slash = v.name.rfind('/'); slash != std::string::npos)
                        layer_key += "/" + v.name.substr(0, slash), var = v.name.substr(slash + 1);
                    const WeightArray* found = nullptr;
                    if (auto l = file_weights->find(layer_key); l != file_weights->end()) {
                        auto a = l->second.find(var);
                        if (a == l->second.end() && var == "kernel")
                            a = l->second.find("depthwise_kernel");  // Keras 2
                        if (a != l->second.end()) found = &a->second;
                    }
                    if (!found)
                        throw Error(ErrorKind::input,
                                    source + ": layer " + std::to_string(layer.index) + " '" + s.name +
                                        "' (" + to_string(s.type) + "): the file has no weight \"" + v.name +
                                        "\" " + dims_text(v.shape),
                                    s.pointer);
                    check_tied_batch(layer, v, found->shape, source);
                    if (found->shape != v.shape)
                        throw Error(ErrorKind::input,
                                    source + ": layer " + std::to_string(layer.index) + " '" + s.name +
                                        "' (" + to_string(s.type) + "): weight \"" + v.name +
                                        "\" has shape " + dims_text(found->shape) +
                                        " in the file, the layer needs " + dims_text(v.shape),
                                    s.pointer);
                    w.vars[v.name] = found->values;
                    continue;
                }
                if (auto it = s.weight_files.find(v.name); it != s.weight_files.end())
                    file = it->second;
                else if (!weights_dir.empty()) {
                    file = weights_dir + "/" + s.name + "/" + v.name + ".npy";
                    if (!std::filesystem::exists(file))
                        throw Error(
                            ErrorKind::input,
                            file + ": no such file: --weights gives every layer its weights, and layer " +
                                std::to_string(layer.index) + " '" + s.name + "' (" + to_string(s.type) +
                                ") needs its " + v.name + " " + dims_text(v.shape) + " there",
                            s.pointer);
                }
                if (file.empty()) continue;
                NpyArray a = read_npy(file);
                check_tied_batch(layer, v, a.shape, file);
                if (a.shape != v.shape)
                    throw Error(ErrorKind::input,
                                file + ": " + v.name + " shape " + dims_text(a.shape) +
                                    " does not fit layer " + std::to_string(layer.index) + " '" + s.name +
                                    "' (" + to_string(s.type) + "), which needs " + dims_text(v.shape) +
                                    " in Keras layout (" + source + " " + s.pointer + "/weights/" + v.name +
                                    ")",
                                s.pointer + "/weights/" + v.name);
                w.vars[v.name] = std::move(a.data);
            }
        }
        for (const auto& [name, file] : s.weight_files)
            if (!known.count(name)) {
                std::string names;
                for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
                throw Error::at(ErrorKind::config, source, s.pointer + "/weights/" + name,
                                "layer " + std::to_string(layer.index) + " (" + to_string(s.type) +
                                    ") has no variable \"" + name + "\"" +
                                    (names.empty() ? " (it has no weights)" : " (its variables: " + names + ")"));
            }
        all.push_back(std::move(w));
    }
    return all;
}

void check_weight_files(const Plan& plan, const std::string& weights_dir) {
    if (weights_dir.empty()) return;
    for (const auto& l : plan.layers) {
        auto variables = kind_of(l.spec.type).variables;
        if (!variables || !l.spec.shared_with.empty()) continue;
        for (const Variable& v : variables(l)) {
            const std::string file = weights_dir + "/" + l.spec.name + "/" + v.name + ".npy";
            if (!l.spec.weight_files.count(v.name) && !std::filesystem::exists(file))
                throw Error(ErrorKind::input,
                            file + ": no such file: --weights gives every layer its weights, and layer " +
                                std::to_string(l.index) + " '" + l.spec.name + "' (" +
                                to_string(l.spec.type) + ") needs its " + v.name + " " + dims_text(v.shape) +
                                " there",
                            l.spec.pointer);
        }
    }
}

void check_save_weights(const Plan& plan, const std::string& dir) {
    for (const auto& l : plan.layers) {
        // A name that is a path would write outside DIR (Keras names never hold a '/').
        const std::string& name = l.spec.name;
        if (kind_of(l.spec.type).variables &&
            (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
             name.find('\\') != std::string::npos))
            throw Error(ErrorKind::config,
                        "--save-weights " + dir + ": layer " + std::to_string(l.index) + " is named \"" +
                            name + "\", which cannot be a folder name",
                        l.spec.pointer);
    }
}

void save_weights(const Plan& plan, const std::vector<LayerWeights>& weights, const std::string& dir) {
    namespace fs = std::filesystem;
    check_save_weights(plan, dir);
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerPlan& l = plan.layers[i];
        auto variables = kind_of(l.spec.type).variables;
        if (!variables || !l.spec.shared_with.empty())
            continue;  // a repeated call reads its first call's files
        const std::string& name = l.spec.name;
        for (const Variable& v : variables(l)) {
            const std::vector<float>& values = weights[i].var(v.name);
            if (values.empty()) continue;  // a variable the layer does not use (no bias)
            const fs::path file = fs::path(dir) / name / (v.name + ".npy");
            std::error_code ec;
            fs::create_directories(file.parent_path(), ec);
            if (ec)
                throw Error(ErrorKind::input,
                            file.parent_path().string() +
                                ": cannot create the folder (--save-weights): " + ec.message());
            write_npy(file.string(), v.shape, values.data(), values.size());
        }
    }
}

// Folds each batch normalisation that the plan marks into its conv's or dense's kernel and bias:
// g = gamma / sqrt(moving_variance + eps); kernel[..., f] *= g[f]; bias = (bias - moving_mean) * g + beta.
std::vector<LayerWeights> fold_batch_norms(const Plan& plan, std::vector<LayerWeights> weights) {
    for (size_t j = 0; j < plan.layers.size(); ++j) {
        const LayerPlan& bn = plan.layers[j];
        if (!bn.folded_into) continue;
        const size_t i = *bn.folded_into;
        const LayerSpec& s = bn.spec;
        const int64_t c = bn.input_shape.channels;
        const auto& w = weights[j];
        std::vector<double> g(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
        for (int64_t f = 0; f < c; ++f) {
            double gamma = s.scale ? w.var("gamma")[f] : 1.0, beta = s.center ? w.var("beta")[f] : 0.0;
            g[f] = gamma / std::sqrt(static_cast<double>(w.var("moving_variance")[f]) + s.epsilon);
            shift[f] = beta - w.var("moving_mean")[f] * g[f];
        }
        LayerWeights& target = weights[i];
        const LayerSpec& t = plan.layers[i].spec;
        const char* kernel = t.type == LayerType::separable_conv1d ? "pointwise_kernel" : "kernel";
        std::vector<float>& k = target.mutable_var(kernel);
        // The output channel is the kernel's last axis, except a transposed conv's (k, filters, Cin).
        const int64_t inner = t.type == LayerType::conv1d_transpose ? plan.layers[i].input_shape.channels : 1;
        for (size_t e = 0; e < k.size(); ++e) k[e] = static_cast<float>(k[e] * g[(e / inner) % c]);
        std::vector<float> bias = target.var("bias");
        if (bias.empty()) bias.assign(static_cast<size_t>(c), 0.0f);
        for (int64_t f = 0; f < c; ++f) bias[f] = static_cast<float>(bias[f] * g[f] + shift[f]);
        target.vars["bias"] = bias;
    }
    return weights;
}

}  // namespace c1r
