// Minimal raw-oneDNN baseline: one 1-D conv or deconv, built as oneDNN's examples/primitives/convolution.cpp does, timed.
//
// Independent of the tool's code on purpose: it is the ceiling the tool is measured against.
// Usage: raw_onednn --mb N --length L --cin C --cout F --kernel K [--stride S] [--dilation D (Keras, 1 = dense)]
//                   [--pad-left P] [--pad-right Q] [--deconv] [--threads T] [--dtype f32|bf16] [--warmup W]
//                   [--repeats R] [--no-bias] [--activation linear|relu|tanh|sigmoid|gelu|elu|swish] [--tag any|nwc]
//                   [--separate-epilogue]
// --separate-epilogue leaves bias and activation out of the conv/deconv primitive and applies them in one
// more primitive, in place, inside the timed loop (binary add of the broadcast bias with the activation as
// its post-op, or an eltwise alone): oneDNN 2.6's deconvolution adds its bias and post-ops in slow
// reference passes, so this is how to measure what a tool could gain by doing the same.
// For --deconv the pads are oneDNN's: the crop of the full transposed result (the right one may be negative).
// Prints one JSON line: {"median_ms", "min_ms", "create_ms", "impl", "gflops", ...}.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace {

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
using clock_type = std::chrono::steady_clock;

struct Problem {
    int64_t mb = 1, length = 0, cin = 0, cout = 0, kernel = 0, stride = 1, dilation = 1;
    int64_t pad_left = 0, pad_right = 0;
    bool deconv = false, bias = true, separate_epilogue = false;
    int threads = 0;  // 0: leave OpenMP's default
    std::string dtype = "f32", activation = "linear", layout = "any";
    int warmup = 5, repeats = 50;
};

[[noreturn]] void usage_error(const std::string& why) {
    std::cerr << "raw_onednn: " << why << "\n"
              << "usage: raw_onednn --mb N --length L --cin C --cout F --kernel K [--stride S] [--dilation D]\n"
                 "       [--pad-left P] [--pad-right Q] [--deconv] [--threads T] [--dtype f32|bf16] [--warmup W]\n"
                 "       [--repeats R] [--no-bias] [--activation NAME] [--tag any|nwc] [--separate-epilogue]\n";
    std::exit(2);
}

Problem parse_args(int argc, char** argv) {
    Problem p;
    auto int_value = [&](int& i) -> int64_t {
        if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
        try {
            return std::stoll(argv[++i]);
        } catch (const std::exception&) {
            usage_error(std::string(argv[i - 1]) + ": not an integer: " + argv[i]);
        }
    };
    auto text_value = [&](int& i) -> std::string {
        if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--mb") p.mb = int_value(i);
        else if (arg == "--length") p.length = int_value(i);
        else if (arg == "--cin") p.cin = int_value(i);
        else if (arg == "--cout") p.cout = int_value(i);
        else if (arg == "--kernel") p.kernel = int_value(i);
        else if (arg == "--stride") p.stride = int_value(i);
        else if (arg == "--dilation") p.dilation = int_value(i);
        else if (arg == "--pad-left") p.pad_left = int_value(i);
        else if (arg == "--pad-right") p.pad_right = int_value(i);
        else if (arg == "--threads") p.threads = static_cast<int>(int_value(i));
        else if (arg == "--warmup") p.warmup = static_cast<int>(int_value(i));
        else if (arg == "--repeats") p.repeats = static_cast<int>(int_value(i));
        else if (arg == "--dtype") p.dtype = text_value(i);
        else if (arg == "--activation") p.activation = text_value(i);
        else if (arg == "--tag") p.layout = text_value(i);
        else if (arg == "--deconv") p.deconv = true;
        else if (arg == "--no-bias") p.bias = false;
        else if (arg == "--separate-epilogue") p.separate_epilogue = true;
        else if (arg == "--bias") p.bias = true;
        else usage_error("unknown argument " + arg);
    }
    if (p.mb < 1 || p.length < 1 || p.cin < 1 || p.cout < 1 || p.kernel < 1 || p.stride < 1 || p.dilation < 1)
        usage_error("--mb, --length, --cin, --cout, --kernel, --stride, --dilation must be positive");
    if (p.repeats < 1 || p.warmup < 0) usage_error("--repeats must be >= 1, --warmup >= 0");
    if (p.dtype != "f32" && p.dtype != "bf16") usage_error("--dtype must be f32 or bf16");
    if (p.layout != "any" && p.layout != "nwc") usage_error("--tag must be any or nwc");
    return p;
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Multiply-adds counted as benchdnn does: only kernel taps that meet real input (conv) or land inside the kept
// output window (deconv).
int64_t count_flops(const Problem& p, int64_t out_length) {
    int64_t taps = 0;
    for (int64_t j = 0; j < p.kernel; ++j) {
        const int64_t offset = j * p.dilation - p.pad_left;
        int64_t first = 0, last = 0;
        if (!p.deconv) {  // outputs o with 0 <= o*s + offset < L
            first = std::max<int64_t>(0, ceil_div(-offset, p.stride));
            last = std::min<int64_t>(out_length - 1, floor_div(p.length - 1 - offset, p.stride));
        } else {  // inputs i with 0 <= i*s + offset < out
            first = std::max<int64_t>(0, ceil_div(-offset, p.stride));
            last = std::min<int64_t>(p.length - 1, floor_div(out_length - 1 - offset, p.stride));
        }
        if (last >= first) taps += last - first + 1;
    }
    return 2 * p.mb * p.cout * p.cin * taps;
}

algorithm eltwise_alg(const std::string& name, float& alpha) {
    alpha = 0.0f;
    if (name == "relu") return algorithm::eltwise_relu;
    if (name == "tanh") return algorithm::eltwise_tanh;
    if (name == "sigmoid") return algorithm::eltwise_logistic;
    if (name == "gelu") return algorithm::eltwise_gelu_erf;
    if (name == "elu" || name == "swish") {
        alpha = 1.0f;  // Keras: elu alpha 1, swish x*sigmoid(1*x)
        return name == "elu" ? algorithm::eltwise_elu : algorithm::eltwise_swish;
    }
    usage_error("unknown --activation " + name);
}

double ms_since(clock_type::time_point start) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

void fill_random(const memory& mem, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    auto* data = static_cast<float*>(mem.get_data_handle());
    const size_t count = mem.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < count; ++i) data[i] = dist(gen);
}

int run(const Problem& p) {
    if (p.threads > 0) omp_set_num_threads(p.threads);
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);

    // Dimensions, oneDNN's order: N, C, W.
    const int64_t dk = p.dilation * (p.kernel - 1) + 1;
    const int64_t out_length = p.deconv ? (p.length - 1) * p.stride + dk - p.pad_left - p.pad_right
                                        : (p.length + p.pad_left + p.pad_right - dk) / p.stride + 1;
    if (out_length < 1) usage_error("output length " + std::to_string(out_length) + " < 1");
    const memory::dims src_dims{p.mb, p.cin, p.length}, dst_dims{p.mb, p.cout, out_length};
    const memory::dims wei_dims{p.cout, p.cin, p.kernel}, bias_dims{p.cout};
    const memory::dims strides{p.stride}, dilates{p.dilation - 1}, pad_l{p.pad_left}, pad_r{p.pad_right};
    const dt data_type = p.dtype == "bf16" ? dt::bf16 : dt::f32;

    // User memory in plain layouts, f32 (the tool's input is f32 nwc too).
    memory user_src_mem({src_dims, dt::f32, tag::nwc}, eng);
    memory user_wei_mem({wei_dims, dt::f32, tag::oiw}, eng);
    memory user_bias_mem({bias_dims, dt::f32, tag::a}, eng);
    fill_random(user_src_mem, 1);
    fill_random(user_wei_mem, 2);
    fill_random(user_bias_mem, 3);

    const tag act_tag = p.layout == "nwc" ? tag::nwc : tag::any;
    memory::desc conv_src_md(src_dims, data_type, act_tag);
    memory::desc conv_dst_md(dst_dims, data_type, act_tag);
    memory::desc conv_wei_md(wei_dims, data_type, tag::any);
    memory::desc conv_bias_md(bias_dims, dt::f32, tag::a);

    primitive_attr conv_attr;
    if (p.activation != "linear" && !p.separate_epilogue) {
        float alpha = 0.0f;
        const algorithm alg = eltwise_alg(p.activation, alpha);
        post_ops ops;
        ops.append_eltwise(1.0f, alg, alpha, 0.0f);
        conv_attr.set_post_ops(ops);
    }

    // Creation timed alone: desc, primitive descriptor and primitive (a cache miss: nothing was built before).
    const auto create_start = clock_type::now();
    const bool fused_bias = p.bias && !p.separate_epilogue;
    primitive conv_prim;
    memory::desc want_src_md, want_wei_md, want_dst_md;
    std::string impl;
    const auto prop = prop_kind::forward_inference;
    if (!p.deconv) {
        auto conv_desc = fused_bias ? convolution_forward::desc(prop, algorithm::convolution_direct, conv_src_md,
                                                            conv_wei_md, conv_bias_md, conv_dst_md, strides, dilates,
                                                            pad_l, pad_r)
                                : convolution_forward::desc(prop, algorithm::convolution_direct, conv_src_md,
                                                            conv_wei_md, conv_dst_md, strides, dilates, pad_l, pad_r);
        convolution_forward::primitive_desc conv_pd(conv_desc, conv_attr, eng);
        want_src_md = conv_pd.src_desc(), want_wei_md = conv_pd.weights_desc(), want_dst_md = conv_pd.dst_desc();
        impl = conv_pd.impl_info_str();
        conv_prim = convolution_forward(conv_pd);
    } else {
        auto deconv_desc =
                fused_bias ? deconvolution_forward::desc(prop, algorithm::deconvolution_direct, conv_src_md, conv_wei_md,
                                                     conv_bias_md, conv_dst_md, strides, dilates, pad_l, pad_r)
                       : deconvolution_forward::desc(prop, algorithm::deconvolution_direct, conv_src_md, conv_wei_md,
                                                     conv_dst_md, strides, dilates, pad_l, pad_r);
        deconvolution_forward::primitive_desc deconv_pd(deconv_desc, conv_attr, eng);
        want_src_md = deconv_pd.src_desc(), want_wei_md = deconv_pd.weights_desc(), want_dst_md = deconv_pd.dst_desc();
        impl = deconv_pd.impl_info_str();
        conv_prim = deconvolution_forward(deconv_pd);
    }
    // The epilogue as a primitive of its own, in place on the destination, in the destination's layout.
    primitive epilogue_prim;
    std::unordered_map<int, memory> epilogue_args;
    const bool epilogue_step = p.separate_epilogue && (p.bias || p.activation != "linear");
    // The broadcast bias in the destination's own layout: with a plain one against a blocked destination,
    // oneDNN 2.6 falls back to its reference binary. For (1, C, 1) and whole blocks these layouts all put
    // channel c at offset c, so the plain bias buffer serves as is; a partial block would need padding.
    tag bias_tag = tag::abc;
    if (want_dst_md == memory::desc(dst_dims, data_type, tag::acb)) bias_tag = tag::acb;
    if (p.cout % 16 == 0 && want_dst_md == memory::desc(dst_dims, data_type, tag::aBc16b)) bias_tag = tag::aBc16b;
    if (p.cout % 8 == 0 && want_dst_md == memory::desc(dst_dims, data_type, tag::aBc8b)) bias_tag = tag::aBc8b;
    memory::desc bias_bcast_md({1, p.cout, 1}, dt::f32, bias_tag);
    if (epilogue_step && p.bias) {
        binary::desc add_desc(algorithm::binary_add, want_dst_md, bias_bcast_md, want_dst_md);
        primitive_attr add_attr;
        if (p.activation != "linear") {
            float alpha = 0.0f;
            const algorithm alg = eltwise_alg(p.activation, alpha);
            post_ops ops;
            ops.append_eltwise(1.0f, alg, alpha, 0.0f);
            add_attr.set_post_ops(ops);
        }
        binary::primitive_desc add_pd(add_desc, add_attr, eng);
        impl += std::string("+") + add_pd.impl_info_str();
        epilogue_prim = binary(add_pd);
    } else if (epilogue_step) {
        float alpha = 0.0f;
        const algorithm alg = eltwise_alg(p.activation, alpha);
        eltwise_forward::desc act_desc(prop, alg, want_dst_md, alpha, 0.0f);
        eltwise_forward::primitive_desc act_pd(act_desc, eng);
        impl += std::string("+") + act_pd.impl_info_str();
        epilogue_prim = eltwise_forward(act_pd);
    }
    const double create_ms = ms_since(create_start);

    // Reorders into the primitive's layouts, outside the timed loop.
    memory conv_src_mem = user_src_mem, conv_wei_mem = user_wei_mem;
    if (want_src_md != user_src_mem.get_desc()) {
        conv_src_mem = memory(want_src_md, eng);
        reorder(user_src_mem, conv_src_mem).execute(strm, user_src_mem, conv_src_mem);
    }
    if (want_wei_md != user_wei_mem.get_desc()) {
        conv_wei_mem = memory(want_wei_md, eng);
        reorder(user_wei_mem, conv_wei_mem).execute(strm, user_wei_mem, conv_wei_mem);
    }
    memory conv_dst_mem(want_dst_md, eng);
    strm.wait();

    std::unordered_map<int, memory> conv_args{
            {DNNL_ARG_SRC, conv_src_mem}, {DNNL_ARG_WEIGHTS, conv_wei_mem}, {DNNL_ARG_DST, conv_dst_mem}};
    if (fused_bias) conv_args.insert({DNNL_ARG_BIAS, user_bias_mem});
    if (epilogue_step && p.bias)
        epilogue_args = {{DNNL_ARG_SRC_0, conv_dst_mem},
                         {DNNL_ARG_SRC_1, memory(bias_bcast_md, eng, user_bias_mem.get_data_handle())},
                         {DNNL_ARG_DST, conv_dst_mem}};
    else if (epilogue_step)
        epilogue_args = {{DNNL_ARG_SRC, conv_dst_mem}, {DNNL_ARG_DST, conv_dst_mem}};
    auto forward = [&] {
        conv_prim.execute(strm, conv_args);
        if (epilogue_step) epilogue_prim.execute(strm, epilogue_args);
        strm.wait();
    };

    for (int i = 0; i < p.warmup; ++i) forward();
    std::vector<double> samples;
    samples.reserve(static_cast<size_t>(p.repeats));
    for (int i = 0; i < p.repeats; ++i) {
        const auto start = clock_type::now();
        forward();
        samples.push_back(ms_since(start));
    }
    std::sort(samples.begin(), samples.end());
    const size_t n = samples.size();
    const double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    const int64_t flops = count_flops(p, out_length);
    const int threads = p.threads > 0 ? p.threads : omp_get_max_threads();

    // impl names are plain identifiers ("jit:avx512_core", "brgconv:..."), no quoting needed beyond the quotes.
    std::printf("{\"median_ms\": %.6f, \"min_ms\": %.6f, \"create_ms\": %.3f, \"impl\": \"%s\", \"gflops\": %.3f, "
                "\"flops\": %lld, \"out_length\": %lld, \"threads\": %d, \"dtype\": \"%s\", \"src_layout_any\": %s, "
                "\"repeats\": %d}\n",
                median, samples.front(), create_ms, impl.c_str(), median > 0 ? static_cast<double>(flops) / (median * 1e6) : 0.0,
                static_cast<long long>(flops), static_cast<long long>(out_length), threads, p.dtype.c_str(),
                p.layout == "any" ? "true" : "false", p.repeats);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Problem problem = parse_args(argc, argv);
    try {
        return run(problem);
    } catch (const dnnl::error& e) {
        std::cerr << "raw_onednn: oneDNN error: " << e.what() << " (status " << e.status << ")\n";
        return e.status == dnnl_unimplemented ? 3 : 1;
    } catch (const std::exception& e) {
        std::cerr << "raw_onednn: " << e.what() << "\n";
        return 1;
    }
}
