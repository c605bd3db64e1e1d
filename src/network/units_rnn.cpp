// Recurrent units: lstm, gru (reset_after false: gru_forward; true: lbr_gru_forward), simple_rnn
// (vanilla_rnn_forward) and the bidirectional wrapper (bidirectional_concat / _sum, or one primitive per side
// and a binary merge). Cells oneDNN 2.6 cannot express (activation other than tanh, recurrent_activation other
// than sigmoid, e.g. Keras 2's hard_sigmoid; simple_rnn activations other than relu/tanh/sigmoid) run as one
// plain loop over the whole layer, marked "loop:<kind>" in the report.
// LSTM peepholes (the layer's `peephole` (3, H), rows i, f, o) are oneDNN's weights_peephole {1, D, 3, H}, whose
// gate order is the same; the plain loop applies them as well.
//
// Layouts: the input arrives as (N, C, W) in any layout; its plain nwc buffer is (N, W, C) row-major, which is
// exactly oneDNN's src_layer {T, N, C} in tag ntc, so the RNN reads it in place. dst_layer {T, N, H} ntc is in
// turn the (N, H, T) nwc sequence output. dst_iter {1, D, N, H} ldnc holds the last state of each direction:
// (N, H) row-major per direction, the (N, H, 1) nwc rank-2 outputs.
//
// Time order: a right-to-left pass writes dst_layer[t] for the step that read x[t] (original positions) and
// leaves in dst_iter the state after x[0]. Keras' go_backwards returns its sequence in processing order, so that
// sequence is dst_layer flipped in time (a plain "loop:flip" step: a reorder cannot reverse an axis). Inside a
// bidirectional layer, Keras flips the backward side's sequence back, so no flip is needed there.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>
#include <set>

#include "core/error.hpp"
#include "network/rnn_loop.hpp"
#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

// A primitive step (all of Step's fields named, for -Wextra).
Step primitive_step(dnnl::primitive primitive, std::unordered_map<int, memory> args, bool is_reorder = false) {
    Step step;
    step.primitive = std::move(primitive);
    step.args = std::move(args);
    step.is_reorder = is_reorder;
    return step;
}

// The recurrent layer being run: the layer itself, or the one a bidirectional layer wraps.
struct Cell {
    const LayerSpec& spec;
    int64_t steps, batch, input, units, gates;
    bool lbr;  // GRU reset_after: linear-before-reset, bias (2, 3H), four oneDNN bias gates
    int64_t bias_gates() const { return lbr ? 4 : gates; }
};

// One direction of the layer: its weights (prefix of the Keras variable names), whether it reads x[T-1]
// first, and whether the sequence the layer returns for it is in reverse time order.
struct Side {
    std::string prefix;
    bool backwards = false;
    bool flip = false;
};

// What the sides produced, before merging: per side its sequence (N, H, T) in the order the layer returns
// it, its last h and (LSTM) c as (N, H, 1); or, from a bidirectional_concat/_sum primitive, the already
// merged sequence.
struct SideOut {
    memory seq, h, c;
};
struct Produced {
    std::optional<memory> merged_seq;
    std::vector<SideOut> sides;
};

std::optional<dnnl::algorithm> vanilla_activation(const ActivationSpec& a) {
    switch (a.fn) {
        case Activation::relu: return dnnl::algorithm::eltwise_relu;
        case Activation::tanh: return dnnl::algorithm::eltwise_tanh;
        case Activation::sigmoid: return dnnl::algorithm::eltwise_logistic;
        default: return std::nullopt;
    }
}

// Whether oneDNN 2.6's cell computes exactly the Keras cell: LSTM and GRU cells have sigmoid gates and tanh
// candidate/output built in; the vanilla cell takes relu, tanh or logistic.
bool onednn_cell(const LayerSpec& s) {
    if (s.type == LayerType::simple_rnn) return vanilla_activation(s.activation).has_value();
    return s.activation.fn == Activation::tanh && s.recurrent_activation.fn == Activation::sigmoid;
}

const char* cell_name(const LayerSpec& s) {
    if (s.type == LayerType::lstm) return "lstm";
    if (s.type == LayerType::gru) return s.reset_after ? "gru" : "gru_reset_before";
    return "simple_rnn";
}

// A Keras variable of a side, checked against the size the cell needs; empty (zeros) for an absent bias.
const std::vector<float>& variable(const UnitContext& c, const Side& side, const std::string& name, size_t size,
                                   bool optional) {
    const std::vector<float>& v = c.weights.var(side.prefix + name);
    if (v.empty() && optional) return v;
    if (v.size() != size)
        throw Error(ErrorKind::input,
                    "layer '" + c.node.spec.name + "': weight '" + side.prefix + name + "' has " +
                        std::to_string(v.size()) + " values, the layer needs " + std::to_string(size),
                    c.node.spec.pointer);
    return v;
}

struct HostWeights {
    std::vector<float> layer, iter, bias;  // ldigo {1, D, I, G, H}, ldigo {1, D, H, G, H}, ldgo {1, D, Gb, H}
    std::vector<float> peephole;           // LSTM peepholes: ldgo {1, D, 3, H}, gates i, f, o (ours too)
};

// Keras' kernel (I, G*H) and recurrent_kernel (H, G*H) are row-major [i][g][h]: ldigo with l = d = 1, gate
// blocks in oneDNN's order (LSTM i, f, c, o; GRU z, r, h = u, r, o), so they copy as they are, one direction
// after the other. The LBR GRU bias is [b0_z + b1_z, b0_r + b1_r, b0_h, b1_h] (the fourth gate u' sits inside
// r * (U_o h + b_u'), as Keras' recurrent bias of h does).
HostWeights onednn_weights(const UnitContext& c, const Cell& cell, const std::vector<const Side*>& sides) {
    const int64_t I = cell.input, H = cell.units, G = cell.gates, GH = G * H;
    HostWeights w;
    for (const Side* side : sides) {
        const auto& kernel = variable(c, *side, "kernel", static_cast<size_t>(I * GH), false);
        const auto& recurrent = variable(c, *side, "recurrent_kernel", static_cast<size_t>(H * GH), false);
        w.layer.insert(w.layer.end(), kernel.begin(), kernel.end());
        w.iter.insert(w.iter.end(), recurrent.begin(), recurrent.end());
        const auto& bias = variable(c, *side, "bias", static_cast<size_t>(cell.lbr ? 2 * GH : GH), true);
        std::vector<float> b(static_cast<size_t>(cell.bias_gates() * H), 0.0f);
        if (!bias.empty() && cell.lbr) {
            for (int64_t j = 0; j < H; ++j) {
                b[j] = bias[j] + bias[GH + j];                  // u
                b[H + j] = bias[H + j] + bias[GH + H + j];      // r
                b[2 * H + j] = bias[2 * H + j];                 // o: input bias of h
                b[3 * H + j] = bias[GH + 2 * H + j];            // u': recurrent bias of h
            }
        } else if (!bias.empty()) {
            b.assign(bias.begin(), bias.end());
        }
        w.bias.insert(w.bias.end(), b.begin(), b.end());
        if (cell.spec.peepholes) {
            const auto& p = variable(c, *side, "peephole", static_cast<size_t>(3 * H), false);
            w.peephole.insert(w.peephole.end(), p.begin(), p.end());
        }
    }
    return w;
}

struct RnnPrimitive {
    dnnl::primitive primitive;
    memory::desc weights_layer, weights_iter, bias, peephole;  // peephole: zero desc without peepholes
    std::string impl;
};

bool is_bidirectional(dnnl::rnn_direction d) {
    return d == dnnl::rnn_direction::bidirectional_concat || d == dnnl::rnn_direction::bidirectional_sum;
}

// The primitive for the cell in one direction (or both), nullopt when oneDNN has no kernel for the data type.
// Initial states are zero (zero memory descriptors); dst_iter / dst_iter_c only when asked for.
std::optional<RnnPrimitive> make_rnn(UnitContext& c, const Cell& cell, dnnl::rnn_direction direction, dt data,
                                     bool with_iter, bool with_iter_c) {
    const int64_t D = is_bidirectional(direction) ? 2 : 1;
    const int64_t T = cell.steps, N = cell.batch, I = cell.input, H = cell.units, G = cell.gates;
    const int64_t out_channels = direction == dnnl::rnn_direction::bidirectional_concat ? 2 * H : H;
    memory::desc src_layer({T, N, I}, data, tag::ntc);
    memory::desc weights_layer({1, D, I, G, H}, data, tag::any);
    memory::desc weights_iter({1, D, H, G, H}, data, tag::any);
    memory::desc bias({1, D, cell.bias_gates(), H}, dt::f32, tag::ldgo);
    memory::desc dst_layer({T, N, out_channels}, data, tag::ntc);
    memory::desc dst_iter = with_iter ? memory::desc({1, D, N, H}, data, tag::ldnc) : memory::desc();
    // bf16 LSTMs keep c in f32 (oneDNN 2.6 has no kernel with a bf16 dst_iter_c).
    memory::desc dst_iter_c = with_iter_c ? memory::desc({1, D, N, H}, dt::f32, tag::ldnc) : memory::desc();
    const auto prop = dnnl::prop_kind::forward_inference;
    const memory::desc none;
    try {
        switch (cell.spec.type) {
            case LayerType::lstm: {
                // Peepholes (f32 {1, D, 3, H}, gates i, f, o): the overload with weights_peephole_desc.
                const memory::desc peephole =
                    cell.spec.peepholes ? memory::desc({1, D, 3, H}, dt::f32, tag::ldgo) : memory::desc();
                dnnl::lstm_forward::desc desc(prop, direction, src_layer, none, none, weights_layer, weights_iter,
                                              peephole, bias, dst_layer, dst_iter, dst_iter_c);
                dnnl::lstm_forward::primitive_desc pd(desc, c.engine);
                return RnnPrimitive{dnnl::lstm_forward(pd), pd.weights_layer_desc(), pd.weights_iter_desc(),
                                    pd.bias_desc(), pd.weights_peephole_desc(), pd.impl_info_str()};
            }
            case LayerType::gru:
                if (cell.lbr) {
                    dnnl::lbr_gru_forward::desc desc(prop, direction, src_layer, none, weights_layer, weights_iter,
                                                     bias, dst_layer, dst_iter);
                    dnnl::lbr_gru_forward::primitive_desc pd(desc, c.engine);
                    return RnnPrimitive{dnnl::lbr_gru_forward(pd), pd.weights_layer_desc(), pd.weights_iter_desc(),
                                        pd.bias_desc(), {}, pd.impl_info_str()};
                } else {
                    dnnl::gru_forward::desc desc(prop, direction, src_layer, none, weights_layer, weights_iter, bias,
                                                 dst_layer, dst_iter);
                    dnnl::gru_forward::primitive_desc pd(desc, c.engine);
                    return RnnPrimitive{dnnl::gru_forward(pd), pd.weights_layer_desc(), pd.weights_iter_desc(),
                                        pd.bias_desc(), {}, pd.impl_info_str()};
                }
            default: {
                // Keras relu has no negative slope: alpha 0.
                dnnl::vanilla_rnn_forward::desc desc(prop, *vanilla_activation(cell.spec.activation), direction,
                                                     src_layer, none, weights_layer, weights_iter, bias, dst_layer,
                                                     dst_iter, dnnl::rnn_flags::undef, 0.0f, 0.0f);
                dnnl::vanilla_rnn_forward::primitive_desc pd(desc, c.engine);
                return RnnPrimitive{dnnl::vanilla_rnn_forward(pd), pd.weights_layer_desc(), pd.weights_iter_desc(),
                                    pd.bias_desc(), {}, pd.impl_info_str()};
            }
        }
    } catch (const dnnl::error& e) {
        if (e.status == dnnl_unimplemented) return std::nullopt;
        throw;
    }
}

// ---- the unit ----

struct RecurrentBuilder {
    UnitContext& c;
    const Cell& cell;
    LayerUnit& unit;
    bool sequences, states;
    std::set<void*> delivered;  // buffers already handed out as an output

    memory view(const memory& owner, const memory::desc& desc, size_t byte_offset = 0) {
        return memory(desc, c.engine, static_cast<char*>(owner.get_data_handle()) + byte_offset);
    }
    memory::desc plain(int64_t channels, int64_t width, dt data) const {
        return memory::desc({cell.batch, channels, width}, data, tag::nwc);
    }

    // The Keras sequence of a side from dst_layer (N, H, T): as it is, or reversed in time by a plain loop.
    memory sequence_of(const memory& dst_layer, const memory::desc& seq_md, bool flip) {
        memory seq = view(dst_layer, seq_md);
        if (!flip) return seq;
        memory flipped(seq_md, c.engine);
        const int64_t T = cell.steps, N = cell.batch;
        const size_t row = seq_md.get_size() / static_cast<size_t>(T * N);  // bytes per step of one sample
        Step step;
        step.loop = [seq, flipped, T, N, row]() {
            const char* from = static_cast<const char*>(seq.get_data_handle());
            char* to = static_cast<char*>(flipped.get_data_handle());
            for (int64_t n = 0; n < N; ++n)
                for (int64_t t = 0; t < T; ++t)
                    std::memcpy(to + (n * T + t) * row, from + (n * T + T - 1 - t) * row, row);
        };
        unit.steps.push_back(std::move(step));
        if (unit.impl.find("+loop:flip") == std::string::npos) unit.impl += "+loop:flip";
        return flipped;
    }

    // Runs `sides` (one, or the two of a bidirectional layer) on oneDNN: one primitive per side, or one
    // bidirectional primitive (`direction` bidirectional_*) for both.
    Produced run_onednn(const std::vector<const Side*>& sides, std::optional<dnnl::rnn_direction> both) {
        const bool bidirectional = both.has_value();
        const bool with_iter = !sequences || states;
        // An LSTM takes dst_iter and dst_iter_c together or not at all (oneDNN 2.6 rejects dst_iter alone).
        const bool with_iter_c = with_iter && cell.spec.type == LayerType::lstm;
        const int64_t T = cell.steps, N = cell.batch, H = cell.units;
        // bf16 where oneDNN has a bf16 kernel for the cell, else f32 (the outputs are converted back).
        dt data = c.data_type();
        auto direction_of = [&](const Side& side) {
            return both ? *both
                        : side.backwards ? dnnl::rnn_direction::unidirectional_right2left
                                         : dnnl::rnn_direction::unidirectional_left2right;
        };
        std::optional<RnnPrimitive> probe = make_rnn(c, cell, direction_of(*sides[0]), data, with_iter, with_iter_c);
        if (!probe && data == dt::bf16) {
            data = dt::f32;
            unit.note = "RNN in f32: oneDNN 2.6 has no bf16 kernel for it on this CPU";
        }
        memory src = c.adapt(c.srcs[0], memory::desc(dims_of(c.node.input_shape), data, tag::nwc), unit);
        // The plain (N, W, C) buffer read as src_layer {T, N, C} ntc: no copy.
        memory src_layer = view(src, memory::desc({T, N, cell.input}, data, tag::ntc));

        Produced out;
        const size_t passes = bidirectional ? 1 : sides.size();
        for (size_t pass = 0; pass < passes; ++pass) {
            const auto direction = direction_of(*sides[pass]);
            std::optional<RnnPrimitive> rnn = pass == 0 && probe && data == c.data_type()
                                                  ? probe
                                                  : make_rnn(c, cell, direction, data, with_iter, with_iter_c);
            if (!rnn) throw dnnl::error(dnnl_unimplemented, "no oneDNN implementation for this recurrent layer");
            std::vector<const Side*> these = bidirectional ? sides : std::vector<const Side*>{sides[pass]};
            const int64_t D = static_cast<int64_t>(these.size());
            HostWeights w = onednn_weights(c, cell, these);
            const int64_t I = cell.input, G = cell.gates;
            std::unordered_map<int, memory> args{
                {DNNL_ARG_SRC_LAYER, src_layer},
                {DNNL_ARG_WEIGHTS_LAYER,
                 c.upload(w.layer, memory::desc({1, D, I, G, H}, dt::f32, tag::ldigo), rnn->weights_layer)},
                {DNNL_ARG_WEIGHTS_ITER,
                 c.upload(w.iter, memory::desc({1, D, H, G, H}, dt::f32, tag::ldigo), rnn->weights_iter)},
                {DNNL_ARG_BIAS,
                 c.upload(w.bias, memory::desc({1, D, cell.bias_gates(), H}, dt::f32, tag::ldgo), rnn->bias)}};
            if (cell.spec.peepholes)  // uploaded once, like the other weights
                args[DNNL_ARG_WEIGHTS_PEEPHOLE] =
                    c.upload(w.peephole, memory::desc({1, D, 3, H}, dt::f32, tag::ldgo), rnn->peephole);
            const int64_t out_channels = direction == dnnl::rnn_direction::bidirectional_concat ? 2 * H : H;
            memory dst_layer(memory::desc({T, N, out_channels}, data, tag::ntc), c.engine);
            args[DNNL_ARG_DST_LAYER] = dst_layer;
            memory dst_iter, dst_iter_c;
            if (with_iter) {
                dst_iter = memory(memory::desc({1, D, N, H}, data, tag::ldnc), c.engine);
                args[DNNL_ARG_DST_ITER] = dst_iter;
            }
            if (with_iter_c) {
                dst_iter_c = memory(memory::desc({1, D, N, H}, dt::f32, tag::ldnc), c.engine);
                args[DNNL_ARG_DST_ITER_C] = dst_iter_c;
            }
            unit.impl += (unit.impl.empty() ? "" : "+") + rnn->impl;
            unit.steps.push_back(primitive_step(rnn->primitive, std::move(args)));

            if (sequences && bidirectional) out.merged_seq = view(dst_layer, plain(out_channels, T, data));
            for (int64_t d = 0; d < D; ++d) {
                SideOut side_out;
                if (sequences && !bidirectional)
                    side_out.seq = sequence_of(dst_layer, plain(H, T, data), these[d]->flip);
                const size_t state_bytes = static_cast<size_t>(N * H);
                if (with_iter)
                    side_out.h = view(dst_iter, plain(H, 1, data), d * state_bytes * (data == dt::bf16 ? 2 : 4));
                if (with_iter_c) side_out.c = view(dst_iter_c, plain(H, 1, dt::f32), d * state_bytes * 4);
                out.sides.push_back(side_out);
            }
        }
        return out;
    }

    // Every side in plain loops (f32), writing each side's Keras sequence and last states.
    Produced run_loops(const std::vector<const Side*>& sides) {
        const int64_t T = cell.steps, H = cell.units, G = cell.gates, I = cell.input;
        auto layer = std::make_shared<LoopLayer>();
        layer->type = cell.spec.type;
        layer->reset_after = cell.lbr;
        layer->activation = cell.spec.activation;
        layer->recurrent_activation = cell.spec.recurrent_activation;
        layer->T = T;
        layer->N = cell.batch;
        layer->I = I;
        layer->H = H;
        layer->src = c.adapt(c.srcs[0], memory::desc(dims_of(c.node.input_shape), dt::f32, tag::nwc), unit);
        Produced out;
        for (const Side* side : sides) {
            LoopSide ls;
            ls.kernel = variable(c, *side, "kernel", static_cast<size_t>(I * G * H), false);
            ls.recurrent = variable(c, *side, "recurrent_kernel", static_cast<size_t>(H * G * H), false);
            ls.bias = variable(c, *side, "bias", static_cast<size_t>((cell.lbr ? 2 : 1) * G * H), true);
            if (cell.spec.peepholes) ls.peephole = variable(c, *side, "peephole", static_cast<size_t>(3 * H), false);
            ls.backwards = side->backwards;
            ls.flip = side->flip;
            if (sequences) ls.seq = memory(plain(H, T, dt::f32), c.engine);
            ls.h = memory(plain(H, 1, dt::f32), c.engine);
            if (cell.spec.type == LayerType::lstm) ls.c = memory(plain(H, 1, dt::f32), c.engine);
            out.sides.push_back({ls.seq, ls.h, ls.c});
            layer->sides.push_back(std::move(ls));
        }
        Step step;
        step.loop = [layer]() { layer->run(); };
        unit.steps.push_back(std::move(step));
        unit.impl += (unit.impl.empty() ? "" : "+") + std::string("loop:") + cell_name(cell.spec);
        unit.note = std::string(cell.spec.type == LayerType::simple_rnn ? "activation " : "activations ") +
                    to_string(cell.spec.activation.fn) +
                    (cell.spec.type == LayerType::simple_rnn
                         ? ""
                         : std::string("/") + to_string(cell.spec.recurrent_activation.fn)) +
                    ": no oneDNN 2.6 cell, plain loop";
        return out;
    }

    // Merges two same-shaped (N, H, W) nwc memories as Keras' Bidirectional does.
    memory merge(const memory& a, const memory& b, const std::string& mode) {
        const memory::desc md = a.get_desc();
        const auto dims = md.dims();
        if (mode == "concat") {
            memory::desc dst_md({dims[0], 2 * dims[1], dims[2]}, md.data_type(), tag::nwc);
            dnnl::concat::primitive_desc pd(dst_md, 1, {md, b.get_desc()}, c.engine);
            memory dst(pd.dst_desc(), c.engine);
            unit.impl += std::string("+concat:") + pd.impl_info_str();
            unit.steps.push_back(primitive_step(dnnl::concat(pd), {{DNNL_ARG_MULTIPLE_SRC, a}, {DNNL_ARG_MULTIPLE_SRC + 1, b},
                                                     {DNNL_ARG_DST, dst}}));
            return dst;
        }
        memory dst(md, c.engine);
        if (mode == "ave") {
            dnnl::sum::primitive_desc pd(md, {0.5f, 0.5f}, {md, b.get_desc()}, c.engine);
            unit.impl += std::string("+sum:") + pd.impl_info_str();
            unit.steps.push_back(primitive_step(dnnl::sum(pd), {{DNNL_ARG_MULTIPLE_SRC, a}, {DNNL_ARG_MULTIPLE_SRC + 1, b},
                                                  {DNNL_ARG_DST, dst}}));
            return dst;
        }
        auto alg = mode == "sum" ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul;
        dnnl::binary::desc desc(alg, md, b.get_desc(), md);
        dnnl::binary::primitive_desc pd(desc, c.engine);
        unit.impl += std::string("+binary:") + pd.impl_info_str();
        unit.steps.push_back(primitive_step(dnnl::binary(pd), {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}}));
        return dst;
    }

    // Output k: the memory itself when it is plain nwc of the data type and not handed out yet, else a copy.
    void deliver(size_t k, const memory& m) {
        if (k >= c.node.output_shapes.size())
            throw Error(ErrorKind::runtime, "layer '" + c.node.spec.name + "': more recurrent outputs than planned");
        const memory::desc want = c.nwc(c.node.output_shapes[k]);
        if (m.get_desc() == want && delivered.insert(m.get_data_handle()).second) {
            unit.dsts[k] = m;
            return;
        }
        memory out(want, c.engine);
        dnnl::reorder::primitive_desc pd(c.engine, m.get_desc(), c.engine, want);
        unit.steps.push_back(primitive_step(dnnl::reorder(pd), {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, out}}, true));
        unit.dsts[k] = out;
    }

    // The outputs in the planned order: the (merged) sequence or last h (two for merge_mode none), then for
    // return_state h (and c) of each side, forward first.
    void finish(Produced& p, bool bidirectional, const std::string& mode) {
        unit.dsts.assign(c.node.output_shapes.size(), memory());
        size_t k = 0;
        const bool lstm = cell.spec.type == LayerType::lstm;
        if (!bidirectional) {
            const SideOut& s = p.sides[0];
            deliver(k++, sequences ? s.seq : s.h);
            if (states) {
                deliver(k++, s.h);
                if (lstm) deliver(k++, s.c);
            }
        } else {
            if (sequences && p.merged_seq) {
                deliver(k++, *p.merged_seq);
            } else {
                const memory& a = sequences ? p.sides[0].seq : p.sides[0].h;
                const memory& b = sequences ? p.sides[1].seq : p.sides[1].h;
                if (mode == "none") {
                    deliver(k++, a);
                    deliver(k++, b);
                } else {
                    deliver(k++, merge(a, b, mode));
                }
            }
            if (states)
                for (const SideOut& s : p.sides) {
                    deliver(k++, s.h);
                    if (lstm) deliver(k++, s.c);
                }
        }
        if (k != c.node.output_shapes.size())
            throw Error(ErrorKind::runtime, "layer '" + c.node.spec.name + "': " + std::to_string(k) +
                                                " recurrent outputs, the plan has " +
                                                std::to_string(c.node.output_shapes.size()));
    }
};

}  // namespace

LayerUnit build_recurrent(UnitContext& c) {
    const LayerSpec& spec = c.node.spec;
    const bool bidirectional = spec.type == LayerType::bidirectional;
    if (bidirectional && !spec.inner) throw Error(ErrorKind::runtime, "bidirectional layer without its inner layer");
    const LayerSpec& inner = bidirectional ? *spec.inner : spec;
    const Shape& in = c.node.input_shape;
    const Cell cell{inner, in.length, in.batch, in.channels, inner.units, gate_count(inner.type),
                    inner.type == LayerType::gru && inner.reset_after};
    const bool g = inner.go_backwards;
    // Keras: the forward copy keeps go_backwards, the backward copy flips it; Bidirectional then reverses the
    // backward copy's sequence. Either way a side's returned sequence is reversed in time exactly when g.
    std::vector<Side> sides;
    if (bidirectional) {
        sides.push_back({"forward_" + inner.name + "/", g, g});
        sides.push_back({"backward_" + inner.name + "/", !g, g});
    } else {
        sides.push_back({"", g, g});
    }
    std::vector<const Side*> side_ptrs;
    for (const Side& s : sides) side_ptrs.push_back(&s);

    LayerUnit unit;
    RecurrentBuilder b{c, cell, unit, inner.return_sequences, inner.return_state, {}};
    const std::string mode = bidirectional ? spec.merge_mode : "";
    Produced produced;
    if (!onednn_cell(inner)) {
        produced = b.run_loops(side_ptrs);
    } else if (bidirectional && !g) {
        // One bidirectional primitive: its sum / concat is Keras' merge of the sequences (ave: sum, then
        // halved in place). Without sequences only the last states are used, whatever the merge.
        const bool seq_merge = mode == "concat" || mode == "sum" || mode == "ave";
        if (b.sequences && seq_merge) {
            auto direction = mode == "concat" ? dnnl::rnn_direction::bidirectional_concat
                                              : dnnl::rnn_direction::bidirectional_sum;
            produced = b.run_onednn(side_ptrs, direction);
            if (mode == "ave") {
                const memory& seq = *produced.merged_seq;
                dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_linear,
                                                 seq.get_desc(), 0.5f, 0.0f);
                dnnl::eltwise_forward::primitive_desc pd(desc, c.engine);
                unit.impl += std::string("+eltwise:") + pd.impl_info_str();
                unit.steps.push_back(primitive_step(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, seq}, {DNNL_ARG_DST, seq}}));
            }
        } else if (!b.sequences) {
            produced = b.run_onednn(side_ptrs, dnnl::rnn_direction::bidirectional_sum);
        } else {
            produced = b.run_onednn(side_ptrs, std::nullopt);  // mul / none: a primitive per side
        }
    } else {
        produced = b.run_onednn(side_ptrs, std::nullopt);
    }
    b.finish(produced, bidirectional, mode);
    unit.dst_layout = "nwc";
    return unit;
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(lstm, build_recurrent)
C1R_UNIT(gru, build_recurrent)
C1R_UNIT(simple_rnn, build_recurrent)
C1R_UNIT(bidirectional, build_recurrent)

}  // namespace c1r
