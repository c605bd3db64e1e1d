// Checks the Keras model file readers (.h5, .keras, TensorFlow.js) against the files that
// scripts/make_keras_file_fixtures.py writes: every good file's architecture and weights exactly, every
// broken file's error kind and message, and that HDF5 never prints to stderr.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "import/keras_file.hpp"

#ifndef C1R_FIXTURE_DIR
#error "C1R_FIXTURE_DIR (absolute path of tests/fixtures) must be defined by the build"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kDir = std::string(C1R_FIXTURE_DIR) + "/keras_files/";

json read_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    return json::parse(in);
}

// The script's rule for a weight with seed s: s - 1 + 0.125 * i.
std::vector<float> seeded(double seed, size_t count) {
    std::vector<float> values(count);
    for (size_t i = 0; i < count; ++i)
        values[i] = static_cast<float>(seed - 1 + 0.125 * static_cast<double>(i));
    return values;
}

// Everything written to stderr while it lives (fd 2 redirected to a temporary file).
class StderrCapture {
public:
    StderrCapture() {
        std::fflush(stderr);
        file_ = std::tmpfile();
        REQUIRE(file_ != nullptr);
        saved_ = ::dup(2);
        ::dup2(::fileno(file_), 2);
    }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;
    ~StderrCapture() { restore(); }

    std::string text() {
        restore();
        std::rewind(file_);
        std::string out;
        for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_)) out += static_cast<char>(c);
        return out;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }

    std::FILE* file_ = nullptr;
    int saved_ = -1;
};

// The message of the Error that reading `path` throws, after checking its kind, prefix and one-line form.
std::string read_error(const std::string& path) {
    StderrCapture capture;
    try {
        c1r::read_keras_model_file(path);
    } catch (const c1r::Error& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(e.kind() == c1r::ErrorKind::input);
        CHECK(message.rfind(path + ": ", 0) == 0);
        CHECK(message.find('\n') == std::string::npos);
        CHECK(capture.text().empty());
        return message.substr(path.size() + 2);
    }
    FAIL("reading " << path << " did not throw");
    return {};
}

void check_against_expected(const std::string& file, const std::string& expected_name) {
    INFO(file);
    StderrCapture capture;
    const c1r::KerasModelFile model = c1r::read_keras_model_file(kDir + file);
    CHECK(capture.text().empty());
    const json expected = read_json(kDir + "expected/" + expected_name + ".json");
    CHECK(model.model == expected["model"]);
    CHECK(model.keras_version == expected["keras_version"].get<std::string>());
    CHECK(model.format == expected["format"].get<std::string>());

    std::vector<std::string> layers;
    for (const auto& [layer, variables] : model.weights) layers.push_back(layer);
    std::vector<std::string> expected_layers;
    for (const auto& [layer, variables] : expected["weights"].items()) expected_layers.push_back(layer);
    CHECK(layers == expected_layers);  // both sorted by name

    for (const auto& [layer, variables] : expected["weights"].items()) {
        const auto found = model.weights.find(layer);
        if (found == model.weights.end()) continue;
        std::vector<std::string> names;
        for (const auto& [name, array] : found->second) names.push_back(name);
        std::vector<std::string> expected_names;
        for (const auto& [name, spec] : variables.items()) expected_names.push_back(name);
        CHECK(names == expected_names);
        for (const auto& [name, spec] : variables.items()) {
            INFO(layer << "/" << name);
            const auto array = found->second.find(name);
            if (array == found->second.end()) continue;
            CHECK(array->second.shape == spec["shape"].get<std::vector<int64_t>>());
            const std::vector<float> values =
                spec.contains("seed") ? seeded(spec["seed"].get<double>(), array->second.values.size())
                                      : spec["values"].get<std::vector<float>>();
            int64_t count = 1;
            for (int64_t d : array->second.shape) count *= d;
            CHECK(static_cast<int64_t>(array->second.values.size()) == count);
            CHECK(array->second.values == values);
        }
    }
}

const std::vector<float>& values_of(const c1r::KerasModelFile& model, const std::string& layer,
                                    const std::string& variable) {
    return model.weights.at(layer).at(variable).values;
}

}  // namespace

TEST_CASE("good Keras files read as written: architecture, version, format, every weight", "[keras_file]") {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"k2_sequential.h5", "k2_sequential"},
        {"k2_functional.h5", "k2_functional"},
        {"k3_legacy.h5", "k3_legacy"},
        {"k1_sequential.h5", "k1_sequential"},
        {"k2_theano.h5", "k2_theano"},
        {"weights_only.h5", "weights_only"},
        {"k3_functional.keras", "k3_functional"},
        {"k215_sequential.keras", "k215_sequential"},
        {"tfjs/model.json", "tfjs"}};
    for (const auto& [file, expected] : files) {
        SECTION(file) { check_against_expected(file, expected); }
    }
}

TEST_CASE("layer keys: wrappers, nested models and Keras 3 paths", "[keras_file]") {
    SECTION("Keras 2 .h5: Bidirectional halves, TimeDistributed, a nested model's own layer names") {
        const auto model = c1r::read_keras_model_file(kDir + "k2_functional.h5");
        CHECK(model.weights.count("bidirectional_1/forward_lstm_1") == 1);
        CHECK(model.weights.count("bidirectional_1/backward_lstm_1") == 1);
        CHECK(model.weights.count("time_distributed_1") == 1);
        CHECK(model.weights.count("dense_a") == 1);
        CHECK(model.weights.count("dense_b") == 1);
        CHECK(model.weights.count("inner") == 0);
        // float16, float64 and big-endian float32 datasets all arrive as float32
        CHECK(values_of(model, "conv1d_1", "kernel")[1] == 8.125f);
        CHECK(values_of(model, "conv1d_1", "bias")[3] == 9.375f);
        CHECK(values_of(model, "bidirectional_1/backward_lstm_1", "recurrent_kernel")[0] ==
              14.0f);  // seed 15, big-endian
    }
    SECTION("Keras 3 .keras: names from the config, numbering per class, cells and wrappers") {
        const auto model = c1r::read_keras_model_file(kDir + "k3_functional.keras");
        CHECK(model.keras_version == "3.11.1");
        CHECK(model.weights.at("conv_a").count("bias") == 0);  // use_bias=False
        CHECK(model.weights.at("bn_a").count("gamma") == 0);   // scale=False
        CHECK(model.weights.at("conv_b").at("kernel").shape ==
              std::vector<int64_t>{1, 6, 4});  // layers/conv1d_1
        CHECK(model.weights.at("bidi/forward_gru_a").at("bias").shape == std::vector<int64_t>{2, 6});
        CHECK(model.weights.count("bidi/backward_gru_a") == 1);
        CHECK(model.weights.count("td") == 1);
        CHECK(model.weights.at("out").at("kernel").shape ==
              std::vector<int64_t>{8, 1});  // top-level layers/dense
        CHECK(model.weights.at("head_out").at("kernel").shape ==
              std::vector<int64_t>{2, 1});  // nested dense_1
    }
    SECTION("tf.keras 2.15 .keras: _layer_checkpoint_dependencies and depthwise_kernel") {
        const auto model = c1r::read_keras_model_file(kDir + "k215_sequential.keras");
        CHECK(model.weights.at("dw").count("depthwise_kernel") == 1);
    }
    SECTION("a weights-only .h5 has no architecture") {
        const auto model = c1r::read_keras_model_file(kDir + "weights_only.h5");
        CHECK(model.model.is_null());
        CHECK(model.weights.count("bidirectional_1/forward_gru_1") == 1);
    }
}

TEST_CASE("Keras 1 weights are converted as Keras 2 loads them", "[keras_file]") {
    const auto model = c1r::read_keras_model_file(kDir + "k1_sequential.h5");
    CHECK(model.keras_version == "1");
    // (filter_length, 1, input_dim, nb_filter) -> [:, 0]
    CHECK(model.weights.at("convolution1d_1").at("kernel").shape == std::vector<int64_t>{3, 2, 4});
    // Keras 1.1 (nb_filter=4, input_dim=4, filter_length=2, 1): kernel[t][c][f] = W[f][c][t][0]
    const auto& kernel = model.weights.at("convolution1d_2").at("kernel");
    CHECK(kernel.shape == std::vector<int64_t>{2, 4, 4});
    const std::vector<float> w = seeded(33, 32);
    CHECK(kernel.values[(1 * 4 + 2) * 4 + 3] == w[(3 * 4 + 2) * 2 + 1]);
    // LSTM W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o (seeds 39..50) -> kernel [W_i | W_f | W_c | W_o]
    const auto& lstm = values_of(model, "lstm_1", "kernel");
    CHECK(lstm[0] == 38.0f);  // W_i
    CHECK(lstm[2] == 44.0f);  // W_f
    CHECK(lstm[4] == 41.0f);  // W_c
    CHECK(lstm[6] == 47.0f);  // W_o
    CHECK(values_of(model, "lstm_1", "bias") ==
          std::vector<float>{40, 40.125f, 46, 46.125f, 43, 43.125f, 49, 49.125f});
    // GRU W_z U_z b_z W_r U_r b_r W_h U_h b_h (seeds 51..59) -> bias [b_z | b_r | b_h]
    CHECK(values_of(model, "gru_1", "bias") ==
          std::vector<float>{52, 52.125f, 52.25f, 55, 55.125f, 55.25f, 58, 58.125f, 58.25f});
    // running_std holds the variance
    CHECK(values_of(model, "batchnormalization_1", "moving_variance") == seeded(38, 4));
    CHECK(model.weights.at("embedding_1").count("embeddings") == 1);
}

TEST_CASE("theano-trained Conv1D kernels are flipped and TF.js quantized weights dequantized",
          "[keras_file]") {
    const auto theano = c1r::read_keras_model_file(kDir + "k2_theano.h5");
    const std::vector<float> stored = seeded(60, 6);  // (3, 1, 2): rows of 2
    CHECK(values_of(theano, "conv1d_1", "kernel") ==
          std::vector<float>{stored[4], stored[5], stored[2], stored[3], stored[0], stored[1]});
    const auto tfjs = c1r::read_keras_model_file(kDir + "tfjs/model.json");
    CHECK(values_of(tfjs, "conv1d_1", "bias") == std::vector<float>{-1.0f, -0.5f, 0.0f, 126.5f});  // uint8
    CHECK(values_of(tfjs, "dense_1", "bias") == std::vector<float>{-1.25f, 16381.75f});            // uint16
    CHECK(values_of(tfjs, "dense_1", "kernel") == seeded(111, 8));                                 // float16
    CHECK(values_of(tfjs, "conv1d_1", "kernel") == seeded(110, 24));  // split across two shards
}

TEST_CASE("broken Keras files: one input error naming the file and the place, nothing on stderr",
          "[keras_file]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"truncated.h5", "not a readable HDF5 file (HDF5: truncated file: eof = "},
        {"oversize_dataset.h5",
         "model_weights/dense/dense/kernel:0: shape (5, 700000) needs 14000000 bytes at offset "},
        {"int32_weights.h5",
         "model_weights/dense/dense/kernel:0: dtype int32 is not a float type (float16, float32 or float64)"},
        {"not_hdf5.h5", "not an HDF5 file (no HDF5 signature)"},
        {"bad_config.h5", "attribute 'model_config': not valid JSON"},
        {"missing_dataset.h5", "model_weights/dense/dense/bias:0: missing dataset"},
        {"external_link.h5",
         "model_weights/dense/dense/kernel:0: an external or user-defined link (not followed)"},
        {"huge_entry.keras",
         "zip entry 'model.weights.h5': declares 3221225472 bytes, over the limit of 2147483648"},
        {"ratio_bomb.keras", "zip entry 'model.weights.h5': declares 104857600 bytes from "},
        {"dotdot_entry.keras", "zip entry '../x': unsafe path (absolute or with a '..' component)"},
        {"no_config.keras", "no config.json in the archive: not a Keras .keras file"},
        {"truncated.keras", "not a readable zip archive ("},
        {"wrong_var_count.keras",
         "model.weights.h5/layers/conv1d/vars: holds 3 variables, Conv1D 'conv1d_7' has 2 (kernel, bias)"},
        {"name_mismatch.keras",
         "model.weights.h5/layers/conv1d/vars: holds layer 'dense_3', but the config puts Conv1D 'conv1d_7' "
         "here"},
        {"tfjs_short/model.json", "weightsManifest[1]: shards hold 17 bytes, the weights need 20"},
        {"tfjs_int32/model.json",
         "weightsManifest[1].weights[1] (dense_1/bias): dtype 'int32' is not a float type (float32 or "
         "float16)"},
        {"tfjs_dotdot/model.json",
         "weightsManifest[1].paths[0]: not a relative path inside the model's folder"},
    };
    for (const auto& [file, expected] : cases) {
        SECTION(file) {
            const std::string message = read_error(kDir + file);
            CHECK(message.rfind(expected, 0) == 0);
            if (file == "oversize_dataset.h5") {
                CHECK(message.find(", past the end of the file (") != std::string::npos);
            }
        }
    }
}

TEST_CASE("files that are not there, or not files", "[keras_file]") {
    CHECK(read_error(kDir + "no_such_file.h5") == "cannot open: No such file or directory");
    CHECK(read_error(kDir + "expected") == "not a regular file");
}

TEST_CASE("is_keras_model_file goes by name, signature or weightsManifest and never throws", "[keras_file]") {
    CHECK(c1r::is_keras_model_file(kDir + "k2_sequential.h5"));
    CHECK(c1r::is_keras_model_file(kDir + "not_hdf5.h5"));  // by its name: the reader then says what is wrong
    CHECK(c1r::is_keras_model_file(kDir + "k3_functional.keras"));
    CHECK(c1r::is_keras_model_file(kDir + "tfjs/model.json"));
    CHECK_FALSE(
        c1r::is_keras_model_file(kDir + "expected/k2_sequential.json"));  // JSON without weightsManifest
    CHECK_FALSE(c1r::is_keras_model_file(kDir + "tfjs/group1-shard1of2.bin"));
    CHECK_FALSE(c1r::is_keras_model_file(kDir + "no_such_file.h5"));
    CHECK_FALSE(c1r::is_keras_model_file(kDir + "expected"));

    // An HDF5 file under any name is found by its signature.
    const fs::path copy =
        fs::temp_directory_path() / ("c1r_keras_file_" + std::to_string(::getpid()) + ".bin");
    fs::copy_file(kDir + "k2_sequential.h5", copy, fs::copy_options::overwrite_existing);
    CHECK(c1r::is_keras_model_file(copy.string()));
    CHECK(c1r::read_keras_model_file(copy.string()).format == "h5");
    fs::remove(copy);
}

// Reads every file of a corpus folder (the real-world Keras files): C1R_KERAS_FILES_DIR=... test_keras_file
// "[corpus]"
TEST_CASE("every Keras file of a corpus folder reads", "[.][corpus]") {
    const char* dir = std::getenv("C1R_KERAS_FILES_DIR");
    if (dir == nullptr) return;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string path = entry.path().string();
        if (!c1r::is_keras_model_file(path)) continue;
        INFO(path);
        CHECK_NOTHROW(c1r::read_keras_model_file(path));
    }
}
