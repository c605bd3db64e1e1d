// ONNX LSTM and GRU → our lstm / gru / bidirectional, with the weights regrouped into Keras' gate order:
// ONNX LSTM gates are (i, o, f, c), Keras (i, f, c, o); GRU gates are (z, r, h) in both. PyTorch's
// linear_before_reset=1 is Keras' reset_after=True. LSTM peepholes P (D, 3H) are ONNX rows (i, o, f), our
// `peephole` (3, H) rows (i, f, o).
#include <algorithm>

#include "import/onnx_lower.hpp"

namespace c1r::onnx_import {
namespace {

struct Gates {
    const Value& w;  // (D, G*H, I)
    const Value& r;  // (D, G*H, H)
    const Value* b;  // (D, 2*G*H) or null
    const Value* p;  // LSTM peepholes (D, 3*H) or null
};

// Keras variables of direction d: kernel (I, G*H), recurrent_kernel (H, G*H), bias.
void add_rnn_weights(Lowerer& L, const std::string& layer, const Gates& g, int64_t d, bool lstm, bool reset_after) {
    const int64_t G = lstm ? 4 : 3, H = g.r.dims[2], I = g.w.dims[2];
    const int64_t lstm_map[4] = {0, 2, 3, 1};  // Keras gate k comes from ONNX gate lstm_map[k]
    auto src_gate = [&](int64_t k) { return lstm ? lstm_map[k] : k; };
    std::vector<float> kernel(static_cast<size_t>(I * G * H)), rec(static_cast<size_t>(H * G * H));
    for (int64_t k = 0; k < G; ++k)
        for (int64_t h = 0; h < H; ++h) {
            const int64_t row = d * G * H + src_gate(k) * H + h;
            for (int64_t i = 0; i < I; ++i)
                kernel[static_cast<size_t>(i * G * H + k * H + h)] = static_cast<float>(g.w.data[static_cast<size_t>(row * I + i)]);
            for (int64_t j = 0; j < H; ++j)
                rec[static_cast<size_t>(j * G * H + k * H + h)] = static_cast<float>(g.r.data[static_cast<size_t>(row * H + j)]);
        }
    L.add_weight(layer, "kernel", {I, G * H}, kernel);
    L.add_weight(layer, "recurrent_kernel", {H, G * H}, rec);
    std::vector<float> bias(static_cast<size_t>((reset_after ? 2 : 1) * G * H), 0.0f);
    if (g.b) {
        for (int64_t k = 0; k < G; ++k)
            for (int64_t h = 0; h < H; ++h) {
                const size_t at = static_cast<size_t>(d * 2 * G * H + src_gate(k) * H + h);
                const double wb = g.b->data[at], rb = g.b->data[at + static_cast<size_t>(G * H)];
                if (reset_after) {
                    bias[static_cast<size_t>(k * H + h)] = static_cast<float>(wb);
                    bias[static_cast<size_t>(G * H + k * H + h)] = static_cast<float>(rb);
                } else {
                    bias[static_cast<size_t>(k * H + h)] = static_cast<float>(wb + rb);
                }
            }
    }
    L.add_weight(layer, "bias", reset_after ? std::vector<int64_t>{2, G * H} : std::vector<int64_t>{G * H}, bias);
    if (g.p) {
        const int64_t onnx_row[3] = {0, 2, 1};  // our i, f, o from ONNX i, o, f
        std::vector<float> peephole(static_cast<size_t>(3 * H));
        for (int64_t k = 0; k < 3; ++k)
            for (int64_t h = 0; h < H; ++h)
                peephole[static_cast<size_t>(k * H + h)] =
                    static_cast<float>(g.p->data[static_cast<size_t>(d * 3 * H + onnx_row[k] * H + h)]);
        L.add_weight(layer, "peephole", {3, H}, peephole);
    }
}

void rnn(Lowerer& L, const OnnxNode& n) {
    const bool lstm = n.op == "LSTM";
    L.only_attrs(n, {"hidden_size", "direction", "layout", "linear_before_reset", "activations", "activation_alpha",
                     "activation_beta", "input_forget"});
    const bool batch_first = L.attr_i(n, "layout", 0) != 0;  // layout 1: X (batch, seq, features)
    if (L.attr_i(n, "input_forget", 0) != 0) throw Unsupported{"input_forget 1"};
    if (n.attrs.count("activations")) throw Unsupported{"activations other than the defaults"};
    const std::string direction = L.attr_s(n, "direction", "forward");
    if (direction == "reverse") throw Unsupported{"direction reverse"};
    const int64_t D = direction == "bidirectional" ? 2 : 1;
    const int64_t G = lstm ? 4 : 3;
    // What our lstm / gru cannot hold, all of it named at once.
    std::vector<std::string> refused;
    if (L.has(n, 4)) {  // every sample as long as the sequence is no per-sample length at all
        const Value& lens = L.in(n, 4);
        const Value& x = L.tensor_in(n, 0);
        const int64_t seq = x.dims.size() == 3 ? x.dims[L.attr_i(n, "layout", 0) != 0 ? 1 : 0] : -1;
        if (!lens.is_const || std::any_of(lens.data.begin(), lens.data.end(), [&](double v) { return v != seq; }))
            refused.push_back("sequence_lens shorter than the sequence (per-sample lengths)");
    }
    for (size_t k : {size_t{5}, size_t{6}}) {
        if (!L.has(n, k) || (!lstm && k == 6)) continue;
        const Value& s = L.const_in(n, k);
        if (std::any_of(s.data.begin(), s.data.end(), [](double v) { return v != 0; })) {
            refused.push_back(std::string("a non-zero initial state (") + (k == 5 ? "initial_h" : "initial_c") + ")");
        }
    }
    if (!refused.empty()) {
        std::string why;
        for (const auto& r : refused) why += (why.empty() ? "" : ", ") + r;
        throw Unsupported{why + ": not supported"};
    }
    const Value& x = L.tensor_in(n, 0);
    const Value& w = L.const_in(n, 1);
    const Value& r = L.const_in(n, 2);
    const Value* b = L.has(n, 3) ? &L.const_in(n, 3) : nullptr;
    const Value* p = lstm && L.has(n, 7) ? &L.const_in(n, 7) : nullptr;
    const int64_t H = L.attr_i(n, "hidden_size", r.dims.size() == 3 ? r.dims[2] : 0);
    if (H < 1 || H > (int64_t{1} << 24)) throw Unsupported{"hidden_size out of range"};
    if (x.dims.size() != 3 || w.dims != std::vector<int64_t>{D, G * H, x.dims[2]} || (batch_first && D != 1) ||
        r.dims != std::vector<int64_t>{D, G * H, H} || (b && b->dims != std::vector<int64_t>{D, 2 * G * H}) ||
        (p && p->dims != std::vector<int64_t>{D, 3 * H}))
        throw Unsupported{"W, R, B or P do not match hidden_size, direction and the input"};
    // X is (seq, batch, features) (layout 1: (batch, seq, features)): our (batch, length, channels) when its
    // axes are (L, B, C) (or (B, L, C)); with length and channels swapped, a permute first.
    const std::string want = batch_first ? "BLC" : "LBC", swapped = batch_first ? "BCL" : "CBL";
    std::string in_ref = x.ref;
    if (x.roles == swapped) in_ref = L.add_layer(n, {{"type", "permute"}, {"dims", {2, 1}}}, {x.ref}, "/permute");
    else if (x.roles != want) throw Unsupported{"its input's axes (" + x.roles + ") are not (sequence, batch, features)"};
    const bool reset_after = !lstm && L.attr_i(n, "linear_before_reset", 0) != 0;  // GRU only: two bias rows
    const bool states = L.used(n, 1) || (lstm && L.used(n, 2));
    if (D == 2 && states) throw Unsupported{"the final states of a bidirectional RNN"};
    json inner = {{"type", lstm ? "lstm" : "gru"}, {"units", H}, {"return_sequences", true}};
    if (!lstm) inner["reset_after"] = reset_after;
    if (p) inner["peepholes"] = true;
    const Gates gates{w, r, b, p};
    const int64_t batch = x.dims[batch_first ? 0 : 1], seq = x.dims[batch_first ? 1 : 0];
    if (D == 1) {
        inner["return_state"] = states;
        std::string ref = L.add_layer(n, inner, {in_ref});
        add_rnn_weights(L, ref, gates, 0, lstm, reset_after);
        if (n.outputs[0].empty()) {  // Y left out: only the final state is read
        } else if (batch_first) {
            L.set_tensor(n.outputs[0], ref, {batch, seq, 1, H}, "BL1C", 3);
        } else {
            L.set_tensor(n.outputs[0], ref, {seq, 1, batch, H}, "L1BC", 3);
        }
        const std::vector<int64_t> state = batch_first ? std::vector<int64_t>{batch, 1, H} : std::vector<int64_t>{1, batch, H};
        const std::string state_roles = batch_first ? "B1C" : "1BC";
        if (n.outputs.size() > 1 && !n.outputs[1].empty()) L.set_tensor(n.outputs[1], ref + ":1", state, state_roles, 2);
        if (lstm && n.outputs.size() > 2 && !n.outputs[2].empty()) L.set_tensor(n.outputs[2], ref + ":2", state, state_roles, 2);
        return;
    }
    const std::string inner_name = lstm ? "lstm" : "gru";
    inner["name"] = inner_name;
    std::string ref = L.add_layer(n, {{"type", "bidirectional"}, {"merge_mode", "concat"}, {"layer", inner}}, {in_ref});
    add_rnn_weights(L, ref + "/forward_" + inner_name, gates, 0, lstm, reset_after);
    add_rnn_weights(L, ref + "/backward_" + inner_name, gates, 1, lstm, reset_after);
    if (!n.outputs[0].empty()) L.set_tensor(n.outputs[0], ref, {seq, 2, batch, H}, "LDBC", 3);
}

}  // namespace

bool lower_rnn_op(Lowerer& L, const OnnxNode& n) {
    if (n.op != "LSTM" && n.op != "GRU") return false;
    rnn(L, n);
    return true;
}

}  // namespace c1r::onnx_import
