// libFuzzer target: bytes as a CSV sequence (through a memfd) -> read_csv. A result is a full rows x cols
// table of finite values.
#include <cmath>

#include "io/csv.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = c1r::fuzz::mem_file().write(data, size);
    c1r::fuzz::expect_clean([&] {
        const c1r::CsvTable table = c1r::read_csv(path);
        if (table.rows < 1 || table.cols < 1) std::abort();
        if (static_cast<size_t>(table.rows) * static_cast<size_t>(table.cols) != table.data.size()) std::abort();
        for (float v : table.data)
            if (!std::isfinite(v)) std::abort();
    });
    return 0;
}
