// Reference recurrent layers: lstm, gru (reset_after both ways), simple_rnn and the bidirectional wrapper,
// written from the Keras cells (REAL-MODELS §2a): zero initial state, gate blocks LSTM i,f,c,o and GRU z,r,h.
#include <stdexcept>
#include <string>

#include "reference/kinds.hpp"

namespace c1r::ref {
namespace {



int64_t gate_count(LayerType t) {
    switch (t) {
        case LayerType::lstm: return 4;
        case LayerType::gru: return 3;
        case LayerType::simple_rnn: return 1;
        default: throw std::logic_error(std::string("reference: not a recurrent layer: ") + to_string(t));
    }
}

// One direction's run: the output after every processed step (in processing order) and the final states.
struct Run {
    int64_t batch = 0, steps = 0, units = 0;
    std::vector<double> seq;  // (batch, steps, units)
    std::vector<double> h, c; // (batch, units); c only for LSTM
    double at(int64_t n, int64_t t, int64_t u) const { return seq[static_cast<size_t>((n * steps + t) * units + u)]; }
};

// Runs the cell `s` over x (B, T, I) with the variables `prefix`kernel etc.; backwards processes x[T-1] .. x[0].
Run run_rnn(const LayerPlan& p, const LayerSpec& s, const Tensor& x, const LayerWeights& w, const std::string& prefix,
            bool backwards) {
    const int64_t B = x.shape.batch, T = x.shape.length, I = x.shape.channels, H = s.units;
    const int64_t G = gate_count(s.type), GH = G * H;
    const bool lstm = s.type == LayerType::lstm, gru = s.type == LayerType::gru;
    const bool split_bias = gru && s.reset_after;
    const std::vector<float>& kernel = w.var(prefix + "kernel");
    const std::vector<float>& rec = w.var(prefix + "recurrent_kernel");
    const std::vector<float>& bias = w.var(prefix + "bias");
    auto check = [&](const std::string& name, const std::vector<float>& v, int64_t expected) {
        if (static_cast<int64_t>(v.size()) != expected)
            throw std::logic_error("reference: layer \"" + p.spec.name + "\" variable " + name + " holds " +
                                   std::to_string(v.size()) + " values, expected " + std::to_string(expected));
    };
    check(prefix + "kernel", kernel, I * GH);
    check(prefix + "recurrent_kernel", rec, H * GH);
    if (s.use_bias) check(prefix + "bias", bias, split_bias ? 2 * GH : GH);
    else check(prefix + "bias", bias, 0);
    // Peepholes (ONNX LSTM's P): rows i, f, o of (3, H) on the cell state; i and f see c_{t-1}, o the new c_t.
    const bool peep = lstm && s.peepholes;
    static const std::vector<float> no_peephole;
    const std::vector<float>& peephole = peep ? w.var(prefix + "peephole") : no_peephole;
    if (peep) check(prefix + "peephole", peephole, 3 * H);
    auto P = [&](int64_t row, int64_t u) { return peep ? static_cast<double>(peephole[static_cast<size_t>(row * H + u)]) : 0.0; };
    // Input bias b0 and, for GRU reset_after, the recurrent bias b1 (bias row 1); zeros when absent.
    auto b0 = [&](int64_t j) { return bias.empty() ? 0.0 : static_cast<double>(bias[static_cast<size_t>(j)]); };
    auto b1 = [&](int64_t j) {
        return bias.empty() || !split_bias ? 0.0 : static_cast<double>(bias[static_cast<size_t>(GH + j)]);
    };
    const ActivationSpec& act = s.activation;
    const ActivationSpec& ract = s.recurrent_activation;

    Run r;
    r.batch = B, r.steps = T, r.units = H;
    r.seq.assign(static_cast<size_t>(B * T * H), 0.0);
    r.h.assign(static_cast<size_t>(B * H), 0.0);
    if (lstm) r.c.assign(static_cast<size_t>(B * H), 0.0);
    std::vector<double> xz(static_cast<size_t>(GH)), hz(static_cast<size_t>(GH)), h_new(static_cast<size_t>(H));
    for (int64_t n = 0; n < B; ++n) {
        double* h = &r.h[static_cast<size_t>(n * H)];
        double* c = lstm ? &r.c[static_cast<size_t>(n * H)] : nullptr;
        for (int64_t step = 0; step < T; ++step) {
            const int64_t t = backwards ? T - 1 - step : step;
            // xz = x_t . kernel + b0; hz = h . recurrent_kernel + b1 (all gate blocks).
            for (int64_t j = 0; j < GH; ++j) {
                double a = b0(j);
                for (int64_t i = 0; i < I; ++i)
                    a += static_cast<double>(x.at(n, t, i)) * kernel[static_cast<size_t>(i * GH + j)];
                xz[static_cast<size_t>(j)] = a;
                double b = b1(j);
                for (int64_t k = 0; k < H; ++k) b += h[k] * rec[static_cast<size_t>(k * GH + j)];
                hz[static_cast<size_t>(j)] = b;
            }
            auto X = [&](int64_t gate, int64_t u) { return xz[static_cast<size_t>(gate * H + u)]; };
            auto R = [&](int64_t gate, int64_t u) { return hz[static_cast<size_t>(gate * H + u)]; };
            for (int64_t u = 0; u < H; ++u) {
                if (lstm) {
                    const double ig = activation(ract, X(0, u) + R(0, u) + P(0, u) * c[u]);
                    const double fg = activation(ract, X(1, u) + R(1, u) + P(1, u) * c[u]);
                    const double cc = fg * c[u] + ig * activation(act, X(2, u) + R(2, u));
                    const double og = activation(ract, X(3, u) + R(3, u) + P(2, u) * cc);
                    c[u] = cc;  // c[u] is read only for unit u
                    h_new[static_cast<size_t>(u)] = og * activation(act, cc);
                } else if (gru) {
                    const double z = activation(ract, X(0, u) + R(0, u));
                    const double rg = activation(ract, X(1, u) + R(1, u));
                    double rec_h;
                    if (s.reset_after) {
                        rec_h = rg * R(2, u);  // r * (h . U_h + b1_h)
                    } else {
                        // (r * h_prev) . U_h: every unit's reset gate is needed, computed here per k.
                        rec_h = 0.0;
                        for (int64_t k = 0; k < H; ++k) {
                            const double rk = activation(ract, X(1, k) + R(1, k));
                            rec_h += rk * h[k] * rec[static_cast<size_t>(k * GH + 2 * H + u)];
                        }
                    }
                    const double hh = activation(act, X(2, u) + rec_h);
                    h_new[static_cast<size_t>(u)] = z * h[u] + (1.0 - z) * hh;
                } else {
                    h_new[static_cast<size_t>(u)] = activation(act, X(0, u) + R(0, u));
                }
            }
            for (int64_t u = 0; u < H; ++u) {
                h[u] = h_new[static_cast<size_t>(u)];
                r.seq[static_cast<size_t>((n * T + step) * H + u)] = h[u];
            }
        }
    }
    return r;
}

Tensor state_tensor(const LayerPlan& p, size_t k, const std::vector<double>& state, int64_t units) {
    Tensor t = blank(out_shape(p, k));
    if (t.shape.elements() != static_cast<int64_t>(state.size()) || t.shape.channels != units)
        throw std::logic_error("reference: layer \"" + p.spec.name + "\" state output " + std::to_string(k) +
                               " has the wrong shape");
    for (size_t i = 0; i < state.size(); ++i) t.data[i] = static_cast<float>(state[i]);
    return t;
}

// The layer's main output from one run: the whole sequence (B, T, H) or the last h (B, H).
Tensor main_output(const LayerPlan& p, size_t k, const Run& r, bool sequences) {
    Tensor t = blank(out_shape(p, k));
    if (sequences) {
        if (t.shape.batch != r.batch || t.shape.length != r.steps || t.shape.channels != r.units)
            throw std::logic_error("reference: layer \"" + p.spec.name + "\" output has the wrong shape");
        for (size_t i = 0; i < r.seq.size(); ++i) t.data[i] = static_cast<float>(r.seq[i]);
    } else {
        if (t.shape.elements() != static_cast<int64_t>(r.h.size()))
            throw std::logic_error("reference: layer \"" + p.spec.name + "\" output has the wrong shape");
        for (size_t i = 0; i < r.h.size(); ++i) t.data[i] = static_cast<float>(r.h[i]);
    }
    return t;
}

}  // namespace

Outputs recurrent(const LayerPlan& p, const Inputs& in, const LayerWeights& w, DataFormat) {
    if (in.empty() || !in[0]) throw std::logic_error("reference: layer \"" + p.spec.name + "\" got no input");
    const Tensor& x = *in[0];
    const LayerSpec& spec = p.spec;
    Outputs out;

    if (spec.type != LayerType::bidirectional) {
        const Run r = run_rnn(p, spec, x, w, "", spec.go_backwards);
        out.push_back(main_output(p, 0, r, spec.return_sequences));
        if (spec.return_state) {
            out.push_back(state_tensor(p, 1, r.h, spec.units));
            if (spec.type == LayerType::lstm) out.push_back(state_tensor(p, 2, r.c, spec.units));
        }
        return out;
    }

    // Bidirectional (K3 layers/rnn/bidirectional.py): the forward copy is the inner layer as configured, the
    // backward copy has go_backwards flipped; with return_sequences the backward sequence is flipped back in time.
    if (!spec.inner) throw std::logic_error("reference: bidirectional \"" + spec.name + "\" has no inner layer");
    const LayerSpec& inner = *spec.inner;
    const Run fw = run_rnn(p, inner, x, w, "forward_" + inner.name + "/", inner.go_backwards);
    const Run bw = run_rnn(p, inner, x, w, "backward_" + inner.name + "/", !inner.go_backwards);
    const bool seq = inner.return_sequences;
    const int64_t B = x.shape.batch, T = seq ? x.shape.length : 1, H = inner.units;
    auto fwd = [&](int64_t n, int64_t t, int64_t u) {
        return seq ? fw.at(n, t, u) : fw.h[static_cast<size_t>(n * H + u)];
    };
    auto bwd = [&](int64_t n, int64_t t, int64_t u) {
        return seq ? bw.at(n, T - 1 - t, u) : bw.h[static_cast<size_t>(n * H + u)];
    };
    const std::string& mode = spec.merge_mode;
    if (mode == "none") {
        Tensor a = blank(out_shape(p, 0)), b = blank(out_shape(p, 1));
        for (const Tensor* t : {&a, &b})
            if (t->shape.batch != B || t->shape.length != T || t->shape.channels != H)
                throw std::logic_error("reference: bidirectional \"" + spec.name + "\" output has the wrong shape");
        for (int64_t n = 0; n < B; ++n)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t u = 0; u < H; ++u) {
                    a.at(n, t, u) = static_cast<float>(fwd(n, t, u));
                    b.at(n, t, u) = static_cast<float>(bwd(n, t, u));
                }
        out.push_back(std::move(a));
        out.push_back(std::move(b));
    } else {
        const bool concat = mode == "concat";
        if (!concat && mode != "sum" && mode != "mul" && mode != "ave")
            throw std::logic_error("reference: bidirectional merge_mode \"" + mode + "\" unknown");
        Tensor m = blank(out_shape(p, 0));
        if (m.shape.batch != B || m.shape.length != T || m.shape.channels != (concat ? 2 * H : H))
            throw std::logic_error("reference: bidirectional \"" + spec.name + "\" output has the wrong shape");
        for (int64_t n = 0; n < B; ++n)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t u = 0; u < H; ++u) {
                    const double f = fwd(n, t, u), b = bwd(n, t, u);
                    if (concat) {
                        m.at(n, t, u) = static_cast<float>(f);
                        m.at(n, t, H + u) = static_cast<float>(b);
                    } else {
                        const double v = mode == "sum" ? f + b : mode == "mul" ? f * b : (f + b) / 2.0;
                        m.at(n, t, u) = static_cast<float>(v);
                    }
                }
        out.push_back(std::move(m));
    }
    if (inner.return_state) {
        const bool lstm = inner.type == LayerType::lstm;
        for (const Run* r : {&fw, &bw}) {
            out.push_back(state_tensor(p, out.size(), r->h, H));
            if (lstm) out.push_back(state_tensor(p, out.size(), r->c, H));
        }
    }
    return out;
}

// The kinds this file computes (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_REFERENCE(lstm, recurrent)
C1R_REFERENCE(gru, recurrent)
C1R_REFERENCE(simple_rnn, recurrent)
C1R_REFERENCE(bidirectional, recurrent)

}  // namespace c1r::ref
