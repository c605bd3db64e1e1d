// libFuzzer target: raw bytes as a config file -> read_json_file -> parse_config -> make_plan.
#include "config_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    c1r::fuzz::run_config_bytes(data, size);
    return 0;
}
