// LSTM peepholes: ONNX LSTM graphs with P (distinct per gate, several steps, forward and bidirectional) against
// ONNX's formula computed here in double straight from the ONNX tensors (gate order i, o, f, c; P rows i, o, f);
// and bad input: a peephole of the wrong shape, peepholes on a gru.
#include "test_helpers.hpp"

#include <cmath>

#include "import/onnx.hpp"
#include "import/onnx_graph.hpp"
#include "io/npy.hpp"

using namespace c1r_test;

namespace {

const std::string kModel = "/usr/share/libonnx-testdata/data/node/test_lstm_with_peepholes/model.onnx";

std::vector<double> values(size_t n, double scale, double phase) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = scale * std::sin(1.3 * static_cast<double>(i) + phase);
    return v;
}

// ONNX LSTM (default activations, zero initial state) over X (T, B, I): Y (T, D, B, H).
std::vector<double> onnx_lstm(const c1r::OnnxTensor& x, const c1r::OnnxTensor& w, const c1r::OnnxTensor& r,
                              const c1r::OnnxTensor& b, const c1r::OnnxTensor& p) {
    const int64_t T = x.dims[0], B = x.dims[1], I = x.dims[2], D = w.dims[0], H = r.dims[2];
    auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    std::vector<double> y(static_cast<size_t>(T * D * B * H));
    for (int64_t d = 0; d < D; ++d)
        for (int64_t n = 0; n < B; ++n) {
            std::vector<double> h(H, 0.0), c(H, 0.0), g(4 * H);
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = d == 1 ? T - 1 - s : s;
                for (int64_t j = 0; j < 4 * H; ++j) {
                    double a = b.values[d * 8 * H + j] + b.values[d * 8 * H + 4 * H + j];
                    for (int64_t i = 0; i < I; ++i) a += w.values[(d * 4 * H + j) * I + i] * x.values[(t * B + n) * I + i];
                    for (int64_t k = 0; k < H; ++k) a += r.values[(d * 4 * H + j) * H + k] * h[k];
                    g[j] = a;
                }
                for (int64_t u = 0; u < H; ++u) {
                    const double* pd = &p.values[static_cast<size_t>(d * 3 * H)];  // i, o, f
                    const double ig = sig(g[u] + pd[u] * c[u]);
                    const double fg = sig(g[2 * H + u] + pd[2 * H + u] * c[u]);
                    c[u] = fg * c[u] + ig * std::tanh(g[3 * H + u]);
                    const double og = sig(g[H + u] + pd[H + u] * c[u]);
                    h[u] = og * std::tanh(c[u]);
                    y[static_cast<size_t>(((t * D + d) * B + n) * H + u)] = h[u];
                }
            }
        }
    return y;
}

}  // namespace

TEST_CASE("ONNX LSTM with distinct peepholes over several steps, forward and bidirectional", "[onnx][peephole]") {
    if (!fs::exists(kModel)) skip_test("libonnx-testdata is not installed; scripts/setup.sh test installs it");
    for (int64_t D : {1, 2}) {
        INFO("directions " << D);
        // The backend test's graph (X, W, R, B, sequence_lens, initial_h, initial_c, P; output Y_h) with our own
        // tensors: X (5, 2, 4), hidden 3, every weight distinct, Y read instead of Y_h.
        c1r::OnnxGraph g = c1r::parse_onnx_model(c1r::read_onnx_bytes(kModel, "peep"), "peep");
        REQUIRE(g.nodes.size() == 1);
        REQUIRE(g.inputs.size() == 8);
        const int64_t T = 5, B = 2, I = 4, H = 3;
        auto tensor = [](std::vector<int64_t> dims, std::vector<double> v) {
            c1r::OnnxTensor t;
            t.dims = std::move(dims);
            t.values = std::move(v);
            return t;
        };
        const c1r::OnnxTensor x = tensor({T, B, I}, values(T * B * I, 1.2, 0.3));
        const c1r::OnnxTensor w = tensor({D, 4 * H, I}, values(D * 4 * H * I, 0.6, 1.1));
        const c1r::OnnxTensor r = tensor({D, 4 * H, H}, values(D * 4 * H * H, 0.5, 2.0));
        const c1r::OnnxTensor b = tensor({D, 8 * H}, values(D * 8 * H, 0.4, 0.7));
        const c1r::OnnxTensor p = tensor({D, 3 * H}, values(D * 3 * H, 0.9, 0.2));
        g.initializers[g.nodes[0].inputs[1]] = w;
        g.initializers[g.nodes[0].inputs[2]] = r;
        g.initializers[g.nodes[0].inputs[3]] = b;
        g.initializers[g.nodes[0].inputs[7]] = p;
        for (size_t k : {size_t{4}, size_t{5}, size_t{6}}) g.nodes[0].inputs[k] = "";  // no lengths, zero states
        g.inputs = {{g.nodes[0].inputs[0], {T, B, I}, true}};
        g.nodes[0].outputs = {"Y"};
        c1r::OnnxAttr dir;
        dir.kind = c1r::OnnxAttr::Kind::s;
        dir.s = D == 2 ? "bidirectional" : "forward";
        g.nodes[0].attrs["direction"] = dir;
        g.outputs = {{"Y", {T, D, B, H}, true}};
        if (D == 2) {  // as PyTorch exports it: Y (T, 2, B, H) → Transpose → (T, B, 2, H) → Reshape (T, B, 2H)
            c1r::OnnxAttr perm;
            perm.kind = c1r::OnnxAttr::Kind::ints;
            perm.ints = {0, 2, 1, 3};
            g.nodes.push_back({1, "to_tbdh", "Transpose", "", {"Y"}, {"Y_tbdh"}, {{"perm", perm}}});
            c1r::OnnxTensor shape = tensor({3}, {double(T), double(B), double(2 * H)});
            shape.integer = true;
            g.initializers["shape"] = shape;
            g.nodes.push_back({2, "merge", "Reshape", "", {"Y_tbdh", "shape"}, {"Y_merged"}, {}});
            g.outputs = {{"Y_merged", {T, B, 2 * H}, true}};
        }
        g.value_info.clear();
        c1r::OnnxModelFile model = c1r::onnx_graph_to_config(g, "peep");

        TempDir tmp("c1r_peep");
        const fs::path weights = tmp.path() / "weights";
        bool has_peephole = false;
        for (const auto& [layer, vars] : model.weights)
            for (const auto& [var, v] : vars) {
                has_peephole = has_peephole || (var == "peephole" && v.shape == std::vector<int64_t>{3, H});
                fs::create_directories(weights / layer);
                c1r::write_npy((weights / layer / (var + ".npy")).string(), v.shape, v.values.data(), v.values.size());
            }
        CHECK(has_peephole);
        std::vector<float> xv(x.values.begin(), x.values.end());
        c1r::write_npy(tmp.file("x.npy"), x.dims, xv.data(), xv.size());
        const auto& out = model.config["outputs"][0];
        const std::string name = out.is_string() ? out.get<std::string>() : out["name"].get<std::string>();
        ProcessResult run = run_binary({tmp.write_json("m.json", model.config), "--weights", weights.string(), "--input",
                                        tmp.file("x.npy"), "--save-output", name + "=" + tmp.file("y.npy"), "--warmup",
                                        "0", "--repeats", "1", "--verify", "--quiet"});
        INFO(run.err);
        REQUIRE(run.exit_code == 0);
        c1r::NpyArray y = c1r::read_npy(tmp.file("y.npy"), 8);
        REQUIRE(y.shape == (D == 1 ? std::vector<int64_t>{T, D, B, H} : std::vector<int64_t>{T, B, D * H}));
        const std::vector<double> want = onnx_lstm(x, w, r, b, p);  // (T, D, B, H)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t d = 0; d < D; ++d)
                for (int64_t n = 0; n < B; ++n)
                    for (int64_t u = 0; u < H; ++u)  // (T, D, B, H) both ways when D is 1
                        CHECK(y.data[static_cast<size_t>(((t * B + n) * D + d) * H + u)] ==
                              Approx(want[static_cast<size_t>(((t * D + d) * B + n) * H + u)]).margin(1e-5));
    }
}

TEST_CASE("peepholes: a peephole of the wrong shape names the file, layer and variable (exit 2)", "[peephole][bad]") {
    TempDir tmp("c1r_peep");
    c1r::write_npy(tmp.file("p.npy"), {3, 4}, std::vector<float>(12, 0.5f).data(), 12);
    json config = {{"input", {{"shape", {2, 5, 3}}}},
                   {"layers", {{{"type", "lstm"}, {"name", "enc"}, {"units", 3}, {"peepholes", true},
                                {"weights", {{"peephole", tmp.file("p.npy")}}}}}}};
    ProcessResult r = run_binary({tmp.write_json("bad_peep.json", config), "--quiet"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad_peep.json") != std::string::npos);
    CHECK(r.err.find("peephole shape (3, 4) does not fit layer 0 'enc' (lstm), which needs (3, 3)") != std::string::npos);
    CHECK(r.err.find("/layers/0/weights/peephole") != std::string::npos);
}

TEST_CASE("peepholes: on a gru (alone or in a bidirectional) it is a config error at the key", "[peephole][bad]") {
    TempDir tmp("c1r_peep");
    const json gru = {{"type", "gru"}, {"units", 3}, {"peepholes", true}};
    for (const auto& [layer, pointer] :
         {std::pair{gru, std::string("/layers/0/peepholes")},
          std::pair{json{{"type", "bidirectional"}, {"layer", gru}}, std::string("/layers/0/layer/peepholes")}}) {
        json config = {{"input", {{"shape", {2, 5, 3}}}}, {"layers", {layer}}};
        ProcessResult r = run_binary({tmp.write_json("gru_peep.json", config), "--dry-run"});
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("gru_peep.json: " + pointer + ": peepholes are an lstm setting, not gru") != std::string::npos);
    }
}
