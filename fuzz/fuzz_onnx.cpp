// libFuzzer target: bytes as an ONNX model -> parse_onnx_model (protobuf with size checks) -> the mapping to a
// config -> parse_config -> make_plan. Seeds: the exported golden set (fuzz/corpus/onnx, a few small files)
// and tests/fixtures/onnx/hostile. libprotobuf/libonnx_proto are not instrumented: coverage and sanitizers
// see our code, and a crash inside them still shows as a crash.
#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "import/onnx.hpp"
#include "import/onnx_graph.hpp"
#include "model/spec.hpp"
#include "plan/plan.hpp"
#include "plan_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace c1r;
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    fuzz::expect_clean([&] {
        const OnnxGraph graph = parse_onnx_model(bytes, "fuzz/model.onnx");
        const OnnxModelFile model = onnx_graph_to_config(graph, "fuzz/model.onnx", 2);
        const ConfigSpec spec = parse_config(model.config, "fuzz/model.onnx");
        if (!spec.input.shape) return;
        const Shape shape = shape_from_dims(*spec.input.shape, spec.data_format);
        shape.elements();
        fuzz::check_plan(spec, shape, make_plan(spec, shape));
    });
    return 0;
}
