// Merges: add, subtract, multiply, average, maximum, minimum as a chain of oneDNN binary primitives (Keras
// broadcasting through oneDNN's broadcast of size-1 src1 dims), and concatenate as oneDNN concat.
#include <algorithm>
#include <numeric>
#include <optional>

#include "core/error.hpp"
#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

dnnl::algorithm binary_alg(LayerType type) {
    switch (type) {
        case LayerType::subtract:
            return dnnl::algorithm::binary_sub;
        case LayerType::multiply:
            return dnnl::algorithm::binary_mul;
        case LayerType::maximum:
            return dnnl::algorithm::binary_max;
        case LayerType::minimum:
            return dnnl::algorithm::binary_min;
        default:
            return dnnl::algorithm::binary_add;  // add, average
    }
}

std::optional<dnnl::binary::primitive_desc> binary_pd(const UnitContext& c, dnnl::algorithm alg,
                                                      const memory::desc& src0, const memory::desc& src1,
                                                      const memory::desc& dst) {
    try {
        return dnnl::binary::primitive_desc(dnnl::binary::desc(alg, src0, src1, dst), c.engine);
    } catch (const dnnl::error& e) {
        if (e.status == dnnl_unimplemented) return std::nullopt;
        throw;
    }
}

bool is_reference(const dnnl::binary::primitive_desc& pd) {
    return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

// A binary step `acc = acc op input k` (or `dst = src0 op input k` for the first one, dst in src0's layout).
// Input k as its producer left it if oneDNN has a jit kernel for that pair of layouts, else in src0's layout
// (same dims) or plain nwc, whichever gets one, through a reorder.
void append_binary(UnitContext& c, dnnl::algorithm alg, const memory& src0, size_t k,
                   const memory::desc& dst_md, memory& dst, LayerUnit& unit) {
    const memory::desc src0_md = src0.get_desc();
    const memory::desc own_md = c.src_desc(k);
    std::vector<memory::desc> candidates;
    // Not a blocked src1 broadcast over channels (C = 1 padded to a block): oneDNN 2.6's jit:uni binary gets
    // it wrong in place (nCw16c, measured); plain, it is a small tensor anyway.
    const bool blocked_spread =
        own_md.dims()[1] == 1 && src0_md.dims()[1] > 1 && own_md.data.format_desc.blocking.inner_nblks > 0;
    if (!blocked_spread) candidates.push_back(own_md);
    if (own_md.dims() == src0_md.dims()) candidates.push_back(src0_md);
    candidates.push_back(c.nwc(c.node.input_shapes[k]));
    std::optional<dnnl::binary::primitive_desc> chosen;
    memory::desc chosen_src1;
    for (const memory::desc& src1_md : candidates) {
        auto pd = binary_pd(c, alg, src0_md, src1_md, dst_md);
        if (!pd) continue;
        if (!chosen || (is_reference(*chosen) && !is_reference(*pd))) {
            chosen = pd;
            chosen_src1 = src1_md;
        }
        if (!is_reference(*chosen)) break;
    }
    if (!chosen) throw dnnl::error(dnnl_unimplemented, "no binary implementation for these layouts");
    memory src1 = c.adapt(c.srcs[k], chosen_src1, unit);
    if (!dst) dst = memory(chosen->dst_desc(), c.engine);
    unit.impl += (unit.impl.empty() ? "" : "+") + std::string(chosen->impl_info_str());
    unit.steps.push_back({dnnl::binary(*chosen),
                          {{DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, dst}}});
}

// Input k spread over the output's dims (a size-1 axis read with stride 0), written into a new nwc
// destination.
memory broadcast_into_output(UnitContext& c, size_t k, LayerUnit& unit) {
    memory plain = c.plain_src(k, unit);
    const memory::dims in = plain.get_desc().dims(), out = dims_of(c.node.output_shapes[0]);
    memory::dims strides{in[1] * in[2], 1, in[1]};  // nwc
    for (size_t i = 0; i < 3; ++i)
        if (in[i] == 1) strides[i] = 0;
    // A view of the source's buffer (same handle: Network::set_inputs moves it with a model input's).
    memory spread(memory::desc(out, plain.get_desc().data_type(), strides), c.engine,
                  plain.get_data_handle());
    memory dst(c.nwc(c.node.output_shapes[0]), c.engine);
    dnnl::reorder::primitive_desc pd(spread, dst);
    unit.impl = std::string(pd.impl_info_str()) + "(broadcast)";
    unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, spread}, {DNNL_ARG_TO, dst}}, false});
    return dst;
}

}  // namespace

// Binary primitives broadcast only src1, and src0 has the destination's dims: an input of the output's shape
// goes first (any one for the commutative kinds; subtract keeps its order). When the first input is smaller,
// it is broadcast into the destination by a reorder first. Later inputs run in place on the destination.
LayerUnit build_merge(UnitContext& c) {
    const LayerType type = c.node.spec.type;
    const memory::dims out_dims = dims_of(c.node.output_shapes[0]);
    const dnnl::algorithm alg = binary_alg(type);
    std::vector<size_t> order(c.srcs.size());
    std::iota(order.begin(), order.end(), size_t{0});
    auto full = [&](size_t k) { return dims_of(c.node.input_shapes[k]) == out_dims; };
    if (type != LayerType::subtract) std::stable_partition(order.begin(), order.end(), full);

    LayerUnit unit;
    memory dst;
    size_t next = 1;
    if (full(order[0])) {
        memory src0 = c.adapt(c.srcs[order[0]], c.src_desc(order[0]), unit);
        append_binary(c, alg, src0, order[1], memory::desc(out_dims, c.data_type(), tag::any), dst, unit);
        next = 2;
    } else {
        dst = broadcast_into_output(c, order[0], unit);
    }
    for (; next < order.size(); ++next) append_binary(c, alg, dst, order[next], dst.get_desc(), dst, unit);
    if (type == LayerType::average) {
        // A separate step, not the last binary's post-op: oneDNN 2.6's jit:uni binary with an eltwise post-op
        // gives wrong values (and writes out of bounds) on nCw8c layouts (measured: 8 and 20 channels).
        const float scale = 1.0f / static_cast<float>(c.srcs.size());
        dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_linear,
                                         dst.get_desc(), scale, 0.0f);
        dnnl::eltwise_forward::primitive_desc pd(desc, c.engine);
        unit.impl += std::string("+") + pd.impl_info_str();
        unit.steps.push_back(
            {dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, dst}, {DNNL_ARG_DST, dst}}, false});
    }
    unit.dsts = {dst};
    return unit;
}

// Concatenate: the user's axis in the data format's order joins channels (oneDNN dim 1) or steps (dim 2);
// rank-2 inputs join their features. Sources in their producers' layouts; oneDNN picks the destination's.
LayerUnit build_concat(UnitContext& c) {
    const int rank = c.node.input_shapes[0].rank;
    const int64_t axis = c.node.spec.axis < 0 ? c.node.spec.axis + rank : c.node.spec.axis;
    const bool channels = rank == 2 || (c.format == DataFormat::channels_last ? axis == 2 : axis == 1);
    LayerUnit unit;
    std::vector<memory::desc> src_mds;
    for (size_t k = 0; k < c.srcs.size(); ++k) src_mds.push_back(c.src_desc(k));
    const memory::desc dst_md(dims_of(c.node.output_shapes[0]), c.data_type(), tag::any);
    dnnl::concat::primitive_desc pd(dst_md, channels ? 1 : 2, src_mds, c.engine);
    unit.impl = pd.impl_info_str();
    memory dst(pd.dst_desc(), c.engine);
    std::unordered_map<int, memory> args{{DNNL_ARG_DST, dst}};
    for (size_t k = 0; k < c.srcs.size(); ++k)
        args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k)] = c.adapt(c.srcs[k], src_mds[k], unit);
    unit.steps.push_back({dnnl::concat(pd), std::move(args), false});
    unit.dsts = {dst};
    return unit;
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(add, build_merge)
C1R_UNIT(subtract, build_merge)
C1R_UNIT(multiply, build_merge)
C1R_UNIT(average, build_merge)
C1R_UNIT(maximum, build_merge)
C1R_UNIT(minimum, build_merge)
C1R_UNIT(concatenate, build_concat)

}  // namespace c1r
