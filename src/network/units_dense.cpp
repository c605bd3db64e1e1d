// Heads and lookups: dense (and time_distributed around it) as one oneDNN matmul over every step, and the
// embedding lookup as a plain loop (oneDNN 2.6 has no gather primitive).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.hpp"
#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

// An id as the message shows it: whole numbers without a fraction, as the reference writes them.
std::string id_text(double v) {
    char text[64];
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
        std::snprintf(text, sizeof text, "%.0f", v);
    else
        std::snprintf(text, sizeof text, "%g", v);
    return text;
}

}  // namespace

// Dense contracts the last axis: the plain nwc source is row-major (N*W, C), so one matmul with the Keras
// kernel (C, units) covers rank 2 (W = 1) and every step of rank 3, and its row-major (N*W, units) result is
// the nwc (N, units, W) destination.
LayerUnit build_dense(UnitContext& c) {
    const LayerSpec& node_spec = c.node.spec;
    if (node_spec.type == LayerType::time_distributed && node_spec.inner->type != LayerType::dense) {
        // A wrapped dropout or activation is that layer on rank 3: its own builder, with the inner settings.
        LayerPlan inner = c.node;
        inner.spec = *node_spec.inner;
        UnitContext inner_context{c.engine,  c.stream, c.dtype,        c.format,       inner,
                                  c.weights, c.srcs,   c.execution_ms, c.input_reorder};
        return build_unit(inner_context);
    }
    const LayerSpec& s = node_spec.type == LayerType::time_distributed ? *node_spec.inner : node_spec;
    const Shape& in = c.node.input_shapes[0];
    const Shape& out = c.node.output_shapes[0];
    const memory::dim rows = in.batch * in.length, cin = in.channels, units = s.units;

    LayerUnit unit;
    memory src = c.plain_src(0, unit);
    memory::desc src_md({rows, cin}, c.data_type(), tag::ab);
    memory::desc weights_md({cin, units}, c.data_type(), tag::any);
    memory::desc bias_md({1, units}, dt::f32, tag::ab);
    memory::desc dst_md({rows, units}, c.data_type(), tag::ab);
    const bool fused = eltwise_ops(s.activation).has_value();  // softmax, softsign: separate steps below
    dnnl::primitive_attr attr = fused ? activation_attr(s.activation) : dnnl::primitive_attr();
    auto desc = !c.weights.var("bias").empty() ? dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md)
                           : dnnl::matmul::desc(src_md, weights_md, dst_md);
    dnnl::matmul::primitive_desc pd(desc, attr, c.engine);
    unit.impl = pd.impl_info_str();

    memory dst(c.nwc(out), c.engine);
    // Views: the matmul sees the source and destination buffers as 2-D; no data moves.
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src_md, c.engine, src.get_data_handle())},
        {DNNL_ARG_WEIGHTS,
         c.upload(c.weights.var("kernel"), memory::desc({cin, units}, dt::f32, tag::ab), pd.weights_desc())},
        {DNNL_ARG_DST, memory(dst_md, c.engine, dst.get_data_handle())}};
    if (!c.weights.var("bias").empty()) args[DNNL_ARG_BIAS] = c.upload(c.weights.var("bias"), bias_md, pd.bias_desc());
    unit.steps.push_back({dnnl::matmul(pd), std::move(args), false});
    unit.dsts = {dst};
    if (!fused) append_activation_steps(c, s.activation, dst, unit);
    return unit;
}

// Embedding: row embeddings[id] for every id of the (batch, steps) input, held as (N, C = steps, 1). The ids
// stay f32 (exact up to 2^24, the planner's input_dim limit) whatever the run's data type; the rows are f32.
LayerUnit build_embedding(UnitContext& c) {
    const LayerSpec& s = c.node.spec;
    const Shape& in = c.node.input_shapes[0];
    const Shape& out = c.node.output_shapes[0];  // (N, steps, output_dim)
    LayerUnit unit;
    memory ids = c.adapt(c.srcs[0], memory::desc(dims_of(in), dt::f32, tag::nwc), unit);
    memory dst(memory::desc(dims_of(out), dt::f32, tag::nwc), c.engine);
    auto table = std::make_shared<const std::vector<float>>(c.weights.var("embeddings"));
    if (static_cast<int64_t>(table->size()) != s.input_dim * s.output_dim)
        throw Error(ErrorKind::runtime, "embedding \"" + s.name + "\": embeddings hold " +
                                            std::to_string(table->size()) + " values, expected " +
                                            std::to_string(s.input_dim * s.output_dim));
    Step lookup;
    // Handles are read at run time, so a model input whose handle the runner replaces is still read.
    lookup.loop = [ids, dst, table, name = s.name, input_dim = s.input_dim, width = s.output_dim,
                   batch = in.batch, steps = in.channels * in.length] {
        const float* id_values = static_cast<const float*>(ids.get_data_handle());
        float* rows = static_cast<float*>(dst.get_data_handle());
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t l = 0; l < steps; ++l) {
                const float v = id_values[n * steps + l];
                if (!(v >= 0.0f && static_cast<double>(v) < static_cast<double>(input_dim)))
                    throw Error(ErrorKind::input, "embedding \"" + name + "\": input position (" +
                                                      std::to_string(n) + ", " + std::to_string(l) +
                                                      ") holds id " + id_text(v) + ", outside [0, " +
                                                      std::to_string(input_dim) + ")");
                const int64_t id = static_cast<int64_t>(v);  // Keras casts to int32: truncation
                std::memcpy(rows + (n * steps + l) * width, table->data() + id * width,
                            static_cast<size_t>(width) * sizeof(float));
            }
    };
    unit.steps.push_back(std::move(lookup));
    unit.dsts = {dst};
    unit.impl = "loop:embedding";
    return unit;
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(dense, build_dense)
C1R_UNIT(time_distributed, build_dense)
C1R_UNIT(embedding, build_embedding)

}  // namespace c1r
