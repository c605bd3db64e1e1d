// ONNX's own backend node tests (Debian's libonnx-testdata, scripts/setup.sh test installs it): every test
// with a rank-3 (N, C, L) input whose operators we map runs through the binary and matches output_*.pb, or is
// refused cleanly for a stated reason. The tests feed weights as graph inputs (input_1.pb, ...): they
// become initializers here, the config and --weights folder are written, and the binary runs them.
#include "test_helpers.hpp"

#include <set>

#include "import/onnx.hpp"
#include "import/onnx_graph.hpp"
#include "io/npy.hpp"

using namespace c1r_test;

namespace {

const std::string kNodeDir = "/usr/share/libonnx-testdata/data/node/";

// Found with scripts/scan_onnx_node_tests.py: every node test whose first input has rank 3 and whose operators
// are all in the mapping's list (docs/onnx.md lists them with the outcome).
const std::vector<std::string> kPass = {
    "test_averagepool_1d_default", "test_convtranspose_1d", "test_maxpool_1d_default",
    "test_elu", "test_elu_default", "test_hardsigmoid_default", "test_hardswish",
    "test_leakyrelu", "test_leakyrelu_default", "test_relu", "test_selu_default", "test_clip_default_min", "test_sigmoid",
    "test_hardsigmoid", "test_selu", "test_clip", "test_clip_default_max",
    "test_softplus", "test_tanh", "test_softmax_axis_1", "test_softmax_axis_2", "test_softmax_default_axis",
    "test_softmax_negative_axis", "test_logsoftmax_axis_1", "test_logsoftmax_axis_2",
    "test_logsoftmax_default_axis", "test_logsoftmax_negative_axis",
    "test_transpose_all_permutations_0", "test_transpose_all_permutations_1",
    // Over (L, C) jointly or the last axis, with Mean and InvStdDev read: layer_normalization (return_statistics).
    "test_layer_normalization_3d_axis1_epsilon", "test_layer_normalization_3d_axis2_epsilon",
    "test_layer_normalization_3d_axis_negative_1_epsilon", "test_layer_normalization_3d_axis_negative_2_epsilon",
    // Over every axis, the batch too (axis 0 / -3): axis [0, 1, 2], W and B (2, 3, 5) transposed to (B, L, C),
    // Mean and InvStdDev (1, 1, 1).
    "test_layer_normalization_3d_axis0_epsilon", "test_layer_normalization_3d_axis_negative_3_epsilon",
    // The batch axis moved: the output's axis order (layout) is the ONNX one, e.g. (C, B, L).
    "test_transpose_all_permutations_2", "test_transpose_all_permutations_3", "test_transpose_all_permutations_4",
    "test_transpose_all_permutations_5", "test_transpose_default",
    // Sequence-first RNNs: the input's axis order is (L, B, C), Y_h's (1, B, C); batchwise Y is (B, L, 1, C).
    "test_lstm_defaults", "test_lstm_with_initial_bias", "test_gru_defaults", "test_gru_with_initial_bias",
    "test_gru_seq_length", "test_lstm_batchwise", "test_gru_batchwise",
    // Over the batch axis: our softmax layer with axis 0 (log for LogSoftmax).
    "test_softmax_axis_0", "test_logsoftmax_axis_0",
    // Peepholes P (iof) → our lstm's peephole (i, f, o); its sequence_lens are the whole sequence, its states zero.
    "test_lstm_with_peepholes",
    // int8 tensors: the values, small integers, run as f32 and come back exact.
    "test_clip_default_int8_min", "test_clip_default_int8_max",
    // Shape ops, inference dropout, activations and two-input merges (their inputs 1.. fed as model inputs).
    "test_add", "test_add_uint8", "test_concat_3d_axis_1", "test_concat_3d_axis_2",
    "test_concat_3d_axis_negative_1", "test_concat_3d_axis_negative_2", "test_dropout_default",
    "test_dropout_default_ratio", "test_dropout_random_old", "test_exp", "test_hardswish_expanded", "test_mul",
    "test_mul_uint8", "test_reshape_negative_dim", "test_reshape_negative_extended_dims",
    "test_reshape_reduced_dims", "test_reshape_reordered_last_dims", "test_reshape_zero_and_negative_dim",
    "test_reshape_zero_dim", "test_slice_default_axes", "test_slice_default_steps", "test_slice_end_out_of_bounds",
    "test_slice_neg", "test_slice_negative_axes", "test_softsign", "test_sub", "test_sub_uint8",
    "test_training_dropout_zero_ratio", "test_unsqueeze_axis_0", "test_unsqueeze_axis_1", "test_unsqueeze_axis_2",
    "test_unsqueeze_axis_3", "test_unsqueeze_three_axes", "test_unsqueeze_two_axes",
    "test_unsqueeze_unsorted_axes",
};
// The rest of the scan (scripts/scan_onnx_node_tests.py): refused cleanly, each with its reason.
const std::vector<std::pair<std::string, std::string>> kRefused = {
    {"test_add_bcast", "rank 1 is not supported ((N, C, L) or (N, F))"},
    {"test_concat_3d_axis_0", "concatenates along the batch axis"},
    {"test_concat_3d_axis_negative_3", "concatenates along the batch axis"},
    {"test_div", "division of two tensors"},
    {"test_div_bcast", "rank 1 is not supported ((N, C, L) or (N, F))"},
    {"test_div_uint8", "division of two tensors"},
    {"test_dropout_default_mask", "its mask output is not supported"},
    {"test_dropout_default_mask_ratio", "its mask output is not supported"},
    {"test_matmul_3d", "a right operand of rank 3"},
    {"test_mul_bcast", "rank 1 is not supported ((N, C, L) or (N, F))"},
    {"test_reduce_max_default_axes_keepdim_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_default_axes_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_do_not_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_do_not_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_negative_axes_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_max_negative_axes_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_default_axes_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_default_axes_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_do_not_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_do_not_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_negative_axes_keepdims_example", "only a reduction over the length axis (2) is supported"},
    {"test_reduce_mean_negative_axes_keepdims_random", "only a reduction over the length axis (2) is supported"},
    {"test_reshape_allowzero_reordered", "dimension 0 is 0; export the model with fixed lengths (no dynamic_axes but the batch)"},
    {"test_reshape_extended_dims", "reshapes to rank 4"},
    {"test_reshape_one_dim", "reshapes to rank 1"},
    {"test_reshape_reordered_all_dims", "changes the batch dimension"},
    {"test_shape", "is a constant"},
    {"test_shape_clip_end", "is a constant"},
    {"test_shape_clip_start", "is a constant"},
    {"test_shape_end_1", "is a constant"},
    {"test_shape_end_negative_1", "is a constant"},
    {"test_shape_start_1", "is a constant"},
    {"test_shape_start_1_end_2", "is a constant"},
    {"test_shape_start_1_end_negative_1", "is a constant"},
    {"test_shape_start_negative_1", "is a constant"},
    {"test_slice", "slices the batch axis"},
    {"test_slice_neg_steps", "step -1 (only 1 is supported)"},
    {"test_slice_start_out_of_bounds", "an empty slice"},
    {"test_sub_bcast", "rank 1 is not supported ((N, C, L) or (N, F))"},
    {"test_training_dropout", "training_mode true with ratio 0.75: a random mask"},
    {"test_training_dropout_default", "training_mode true with ratio 0.5: a random mask"},
    {"test_training_dropout_default_mask", "its mask output is not supported"},
    {"test_training_dropout_mask", "its mask output is not supported"},
    {"test_training_dropout_zero_ratio_mask", "its mask output is not supported"},
};

c1r::OnnxTensor pb(const std::string& path) {
    return c1r::parse_onnx_tensor(c1r::read_onnx_bytes(path, path), path);
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& v) {
    c1r::write_npy(path, shape, v.data(), v.size());
}

// Operators whose inputs are all data: their tests' inputs 1.. stay model inputs (the others are weights).
bool data_inputs(const c1r::OnnxGraph& g) {
    static const std::set<std::string> kData = {"Add", "Sub", "Mul", "Div", "Concat"};
    return g.nodes.size() == 1 && kData.count(g.nodes[0].op);
}

// The model with inputs 1.. moved into initializers from test_data_set_0 (unless they are data); the config and
// weights.
c1r::OnnxModelFile load(const std::string& name) {
    const std::string dir = kNodeDir + name + "/";
    c1r::OnnxGraph g = c1r::parse_onnx_model(c1r::read_onnx_bytes(dir + "model.onnx", name), name);
    if (data_inputs(g)) return c1r::onnx_graph_to_config(g, name);
    for (size_t k = 1; k < g.inputs.size(); ++k)
        g.initializers[g.inputs[k].name] = pb(dir + "test_data_set_0/input_" + std::to_string(k) + ".pb");
    g.inputs.resize(1);
    return c1r::onnx_graph_to_config(g, name);
}

// Runs the mapped model on test_data_set_0's inputs with --verify and compares every graph output with
// output_k.pb (within 1e-4 relative).
void run_and_compare(const std::string& name, const c1r::OnnxModelFile& model) {
    const std::string dir = kNodeDir + name + "/";
    TempDir tmp("c1r_onnx_peer");
    const fs::path weights = tmp.path() / "weights";
    for (const auto& [layer, vars] : model.weights)
        for (const auto& [var, w] : vars) {
            fs::create_directories(weights / layer);
            write_npy((weights / layer / (var + ".npy")).string(), w.shape, w.values);
        }
    std::vector<std::string> args{"--weights", weights.string(), "--warmup", "0", "--repeats", "1", "--verify"};
    const c1r::OnnxGraph g = c1r::parse_onnx_model(c1r::read_onnx_bytes(dir + "model.onnx", name), name);
    const size_t fed = data_inputs(g) ? g.inputs.size() : 1;
    for (size_t k = 0; k < fed; ++k) {
        c1r::OnnxTensor x = pb(dir + "test_data_set_0/input_" + std::to_string(k) + ".pb");
        std::vector<float> xv(x.values.begin(), x.values.end());
        const std::string file = tmp.file("x" + std::to_string(k) + ".npy");
        write_npy(file, x.dims, xv);
        args.push_back("--input");
        args.push_back(g.inputs[k].name + "=" + file);
    }
    args.insert(args.begin(), tmp.write_json("model.json", model.config));
    const auto& outs = model.config["outputs"];
    for (size_t k = 0; k < outs.size(); ++k) {
        args.push_back("--save-output");
        const std::string out = outs[k].is_string() ? outs[k].get<std::string>() : outs[k]["name"].get<std::string>();
        args.push_back(out + "=" + tmp.file("y" + std::to_string(k) + ".npy"));
    }
    ProcessResult r = run_binary(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    for (size_t k = 0; k < outs.size(); ++k) {
        c1r::OnnxTensor want = pb(dir + "test_data_set_0/output_" + std::to_string(k) + ".pb");
        c1r::NpyArray got = c1r::read_npy(tmp.file("y" + std::to_string(k) + ".npy"), 8);
        INFO("output " << k);
        REQUIRE(got.shape == want.dims);
        double worst = 0;
        for (size_t i = 0; i < want.values.size(); ++i)
            worst = std::max(worst, std::fabs(got.data[i] - want.values[i]) / (1.0 + std::fabs(want.values[i])));
        CHECK(worst <= 1e-4);
    }
}

}  // namespace

TEST_CASE("ONNX backend node tests (libonnx-testdata): 1-D tests of mapped operators pass", "[onnx]") {
    if (!fs::exists(kNodeDir)) skip_test("libonnx-testdata is not installed (" + kNodeDir + "); scripts/setup.sh test installs it");
    for (const auto& name : kPass) {
        INFO("backend test " << name);
        REQUIRE(fs::exists(kNodeDir + name + "/model.onnx"));
        c1r::OnnxModelFile model;
        try {
            model = load(name);
        } catch (const c1r::Error& e) {
            FAIL("refused: " << e.what());
        }
        run_and_compare(name, model);
    }
}

// The same joint normalisation on a transposed input, (N, L, C) in ONNX order, whose W and B are (L, C) as ours
// (no transpose of the weights): Transpose, LayerNormalization(axis 1) with W and B transposed, Transpose back.
// A joint normalisation does not depend on the order inside its group, so Y, Mean and InvStdDev are the
// backend test's own outputs.
TEST_CASE("ONNX LayerNormalization over (L, C) of a transposed input matches the backend test's outputs", "[onnx]") {
    if (!fs::exists(kNodeDir)) skip_test("libonnx-testdata is not installed (" + kNodeDir + "); scripts/setup.sh test installs it");
    const std::string name = "test_layer_normalization_3d_axis1_epsilon";
    const std::string dir = kNodeDir + name + "/";
    c1r::OnnxGraph g = c1r::parse_onnx_model(c1r::read_onnx_bytes(dir + "model.onnx", name), name);
    REQUIRE(g.nodes.size() == 1);
    REQUIRE(g.inputs.size() == 3);
    REQUIRE(g.nodes[0].outputs.size() == 3);
    for (size_t k = 1; k < 3; ++k) {
        c1r::OnnxTensor w = pb(dir + "test_data_set_0/input_" + std::to_string(k) + ".pb");
        REQUIRE(w.dims == std::vector<int64_t>{3, 5});
        c1r::OnnxTensor t = w;
        t.dims = {5, 3};
        for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 5; ++j) t.values[static_cast<size_t>(j * 3 + i)] = w.values[static_cast<size_t>(i * 5 + j)];
        g.initializers[g.inputs[k].name] = t;
    }
    g.inputs.resize(1);
    c1r::OnnxAttr perm;
    perm.kind = c1r::OnnxAttr::Kind::ints;
    perm.ints = {0, 2, 1};
    c1r::OnnxNode before{0, "to_nlc", "Transpose", "", {g.nodes[0].inputs[0]}, {"x_nlc"}, {{"perm", perm}}};
    c1r::OnnxNode ln = g.nodes[0];
    ln.index = 1;
    ln.inputs[0] = "x_nlc";
    const std::string y = ln.outputs[0];
    ln.outputs[0] = "y_nlc";
    c1r::OnnxNode after{2, "to_ncl", "Transpose", "", {"y_nlc"}, {y}, {{"perm", perm}}};
    g.nodes = {before, ln, after};
    c1r::OnnxModelFile model = c1r::onnx_graph_to_config(g, name);
    bool gamma_as_is = false;
    for (const auto& [layer, vars] : model.weights)
        if (vars.count("gamma")) gamma_as_is = vars.at("gamma").shape == std::vector<int64_t>{5, 3};
    CHECK(gamma_as_is);  // Keras' (L, C) is this graph's own (5, 3)
    run_and_compare(name, model);
}

// Over every axis (axis 0) the weights are shaped like the whole input, batch 2: the mapped model run with
// another --batch stops with one line naming the layer and both batch sizes.
TEST_CASE("ONNX LayerNormalization over axis 0 with another --batch is an exit-2 error naming the batch sizes", "[onnx]") {
    if (!fs::exists(kNodeDir)) skip_test("libonnx-testdata is not installed (" + kNodeDir + "); scripts/setup.sh test installs it");
    const std::string name = "test_layer_normalization_3d_axis0_epsilon";
    c1r::OnnxModelFile model = load(name);
    TempDir tmp("c1r_onnx_peer");
    const fs::path weights = tmp.path() / "weights";
    std::string layer_name;
    for (const auto& [layer, vars] : model.weights)
        for (const auto& [var, w] : vars) {
            CHECK(w.shape == std::vector<int64_t>{2, 5, 3});  // ONNX (B, C, L) as our (B, L, C)
            layer_name = layer;
            fs::create_directories(weights / layer);
            write_npy((weights / layer / (var + ".npy")).string(), w.shape, w.values);
        }
    const std::string config = tmp.write_json("model.json", model.config);
    ProcessResult r = run_binary({config, "--weights", weights.string(), "--batch", "3", "--dry-run"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'" + layer_name + "'") != std::string::npos);
    CHECK(r.err.find("is for batch 2, but the input's batch is 3") != std::string::npos);
}

TEST_CASE("ONNX backend node tests (libonnx-testdata): the others are refused cleanly, for their reason", "[onnx]") {
    if (!fs::exists(kNodeDir)) skip_test("libonnx-testdata is not installed (" + kNodeDir + "); scripts/setup.sh test installs it");
    for (const auto& [name, reason] : kRefused) {
        INFO("backend test " << name);
        REQUIRE(fs::exists(kNodeDir + name + "/model.onnx"));
        try {
            load(name);
            FAIL("mapped, but listed as refused: move it to kPass if it passes");
        } catch (const c1r::Error& e) {
            CHECK(e.kind() == c1r::ErrorKind::config);
            CHECK_THAT(e.what(), Catch::Matchers::Contains(reason));
        }
    }
}
