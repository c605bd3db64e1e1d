// Kinds that reduce or move values without weights: global pooling (pooling over the whole length), zero
// padding and cropping (reorders into or out of a window of the length axis), reshape/flatten/dropout (views,
// no data movement) and repeat_vector (nearest resampling from one step to n).
#include <cstring>

#include "core/error.hpp"
#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

// The format tag of a 3-D layout (plain or blocked over channels), so an output can keep its input's layout;
// nwc for anything else.
tag layout_tag(const memory::desc& md) {
    const dnnl_memory_desc_t& d = md.data;
    if (d.format_kind != dnnl_blocked || d.ndims != 3) return tag::nwc;
    const auto& blocking = d.format_desc.blocking;
    if (blocking.inner_nblks == 0) return blocking.strides[1] <= blocking.strides[2] ? tag::nwc : tag::ncw;
    if (blocking.inner_nblks != 1 || blocking.inner_idxs[0] != 1) return tag::nwc;
    const dnnl_dim_t block = blocking.inner_blks[0];
    return block == 16 ? tag::nCw16c : block == 8 ? tag::nCw8c : block == 4 ? tag::nCw4c : tag::nwc;
}

}  // namespace

// GlobalMax/AveragePooling1D: one window over the whole length, (N, C, W) -> (N, C, 1), which is the layout
// of both (N, C) and, with keepdims, (N, 1, C).
LayerUnit build_global_pool(UnitContext& c) {
    const Shape& in = c.node.input_shapes[0];
    LayerUnit unit;
    const auto alg = c.node.spec.type == LayerType::global_max_pool1d
                         ? dnnl::algorithm::pooling_max
                         : dnnl::algorithm::pooling_avg_exclude_padding;
    const memory::desc dst_md(dims_of(c.node.output_shapes[0]), c.data_type(), tag::any);
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, c.src_desc(0), dst_md,
                                     {1}, {in.length}, {0}, {0});
    dnnl::pooling_forward::primitive_desc pd(desc, c.engine);
    unit.impl = pd.impl_info_str();
    memory src = c.adapt(c.srcs[0], pd.src_desc(), unit);
    memory dst(pd.dst_desc(), c.engine);
    unit.steps.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, false});
    unit.dsts = {dst};
    return unit;
}

// ZeroPadding1D: a destination zeroed once, in the source's layout, and each run a reorder of the source into
// the window between the edges. Cropping1D: a reorder from the window of the source between the edges.
LayerUnit build_edges(UnitContext& c) {
    const Shape& in = c.node.input_shapes[0];
    const Shape& out = c.node.output_shapes[0];
    const memory::dim left = c.node.spec.edges.first;
    LayerUnit unit;
    // The reorder converts layout and data type itself: the source as its producer left it.
    memory src = c.srcs[0];
    const memory::desc src_md = src.get_desc();
    if (c.node.spec.type == LayerType::zero_padding1d && c.node.spec.padding_mode != PaddingMode::zeros) {
        unit.dsts = {padded_input(c, left, c.node.spec.edges.second, c.node.spec.padding_mode, unit)};
        return unit;
    }
    if (c.node.spec.type == LayerType::zero_padding1d) {
        memory dst(memory::desc(dims_of(out), c.data_type(), layout_tag(src_md)), c.engine);
        std::memset(dst.get_data_handle(), 0, dst.get_desc().get_size());
        memory window(dst.get_desc().submemory_desc(dims_of(in), {0, 0, left}), c.engine,
                      dst.get_data_handle());
        dnnl::reorder::primitive_desc pd(src, window);
        unit.impl = pd.impl_info_str();
        unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, window}}, false});
        unit.dsts = {dst};
        return unit;
    }
    memory::desc window_md = src_md.submemory_desc(dims_of(out), {0, 0, left}, /*allow_empty=*/true);
    if (window_md.is_zero()) {  // a layout oneDNN cannot cut along the length: the plain copy can be
        src = c.plain_src(0, unit);
        window_md = src.get_desc().submemory_desc(dims_of(out), {0, 0, left});
    }
    // A view of the source's buffer (same handle: Network::set_inputs moves it with a model input's).
    memory window(window_md, c.engine, src.get_data_handle());
    memory dst(memory::desc(dims_of(out), c.data_type(), layout_tag(src.get_desc())), c.engine);
    dnnl::reorder::primitive_desc pd(window, dst);
    unit.impl = pd.impl_info_str();
    unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, window}, {DNNL_ARG_TO, dst}}, false});
    unit.dsts = {dst};
    return unit;
}

// Dropout family: the identity at inference. Reshape and flatten: the values in the data format's row-major
// order (nwc for channels_last, ncw for channels_first) read with the output's dims — a view of the same
// buffer (same handle: Network::set_inputs moves it with a model input's); a reorder first only when the
// producer left another layout.
LayerUnit build_view(UnitContext& c) {
    LayerUnit unit;
    if (c.node.spec.type == LayerType::dropout) {
        unit.dsts = {c.srcs[0]};
        unit.impl = "identity";
        return unit;
    }
    const tag order = c.format == DataFormat::channels_last ? tag::nwc : tag::ncw;
    const dt type = c.srcs[0].get_desc().data_type();  // a view keeps whatever type it is given
    memory src = c.adapt(c.srcs[0], memory::desc(dims_of(c.node.input_shapes[0]), type, order), unit);
    unit.dsts = {
        memory(memory::desc(dims_of(c.node.output_shapes[0]), type, order), c.engine, src.get_data_handle())};
    unit.impl = src == c.srcs[0] ? "view" : "reorder+view";
    return unit;
}

// RepeatVector(n): (N, C, 1) -> (N, C, n). Nearest resampling from one step to n reads step
// round((w + 0.5) / n - 0.5) = 0 for every w: one jit pass in the source's own layout.
LayerUnit build_repeat(UnitContext& c) {
    LayerUnit unit;
    const memory::desc dst_md(dims_of(c.node.output_shapes[0]), c.data_type(), tag::any);
    dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::resampling_nearest, c.src_desc(0), dst_md);
    dnnl::resampling_forward::primitive_desc pd(desc, c.engine);
    unit.impl = pd.impl_info_str();
    memory src = c.adapt(c.srcs[0], pd.src_desc(), unit);
    memory dst(pd.dst_desc(), c.engine);
    unit.steps.push_back(
        {dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, false});
    unit.dsts = {dst};
    return unit;
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(global_max_pool1d, build_global_pool)
C1R_UNIT(global_avg_pool1d, build_global_pool)
C1R_UNIT(zero_padding1d, build_edges)
C1R_UNIT(cropping1d, build_edges)
C1R_UNIT(reshape, build_view)
C1R_UNIT(flatten, build_view)
C1R_UNIT(dropout, build_view)
C1R_UNIT(repeat_vector, build_repeat)

}  // namespace c1r
