// libFuzzer target: bytes as a Keras model.to_json() text -> keras_to_config -> parse_config -> make_plan.
// The --batch/--length options come from the input's size, so seeds stay plain Keras JSON files.
#include <nlohmann/json.hpp>

#include "import/keras.hpp"
#include "plan/plan.hpp"
#include "model/spec.hpp"
#include "fuzz_common.hpp"
#include "plan_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace c1r;
    // read_json_file's parser: its syntax errors are fuzz_config's business, not the importer's.
    const nlohmann::json model = nlohmann::json::parse(data, data + size, nullptr, false);
    if (model.is_discarded()) return 0;
    KerasImportOptions options;
    if (size % 3 == 1) options.length = static_cast<int64_t>(size % 64 + 1);
    if (size % 5 == 2) options.batch = static_cast<int64_t>(size % 7 + 1);
    if (size % 11 == 3) options.length = int64_t{1} << 40;  // the largest --length accepts
    fuzz::expect_clean([&] {
        const nlohmann::json config = keras_to_config(model, "fuzz/model.json", options);
        if (!config.is_object()) {
            std::fprintf(stderr, "BUG: keras_to_config returned a non-object: %s\n", config.dump().c_str());
            std::abort();
        }
        const ConfigSpec spec = parse_config(config, "fuzz/model.json");
        if (!spec.input.shape) return;
        for (int64_t d : *spec.input.shape)
            if (d < 1) return;  // a None left unfilled: the runner reports it
        const Shape shape = shape_from_dims(*spec.input.shape, spec.data_format);
        shape.elements();
        fuzz::check_plan(spec, shape, make_plan(spec, shape));
    });
    return 0;
}
