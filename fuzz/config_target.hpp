// The body shared by fuzz_config and fuzz_config_struct: a file's bytes through the JSON reader, the
// config parser and validator, and (as --dry-run does) the length module.
#pragma once

#include <cstddef>
#include <cstdint>

#include "import/keras.hpp"
#include "plan/plan.hpp"
#include "model/spec.hpp"
#include "fuzz_common.hpp"
#include "plan_check.hpp"

namespace c1r::fuzz {

inline void run_config_bytes(const uint8_t* data, size_t size) {
    const std::string& path = mem_file().write(data, size);
    expect_clean([&] {
        const nlohmann::json document = read_json_file(path);
        if (is_keras_model(document)) return;  // fuzz_keras's surface
        const ConfigSpec config = parse_config(document, "fuzz/config.json");
        if (!config.input.shape) return;  // a file input: the readers have their own targets
        const Shape shape = shape_from_dims(*config.input.shape, config.data_format);
        shape.elements();  // the runner's overflow check before planning
        const Plan plan = make_plan(config, shape);
        check_plan(config, shape, plan);
    });
}

}  // namespace c1r::fuzz
