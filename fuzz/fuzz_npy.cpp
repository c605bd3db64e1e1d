// libFuzzer target: bytes as a .npy file (through a memfd, so src/npy.cpp reads a real file path) -> read_npy.
// A result must be 1 to 3 positive dims whose product is the number of finite values.
#include <cmath>

#include "io/npy.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = c1r::fuzz::mem_file().write(data, size);
    c1r::fuzz::expect_clean([&] {
        const c1r::NpyArray array = c1r::read_npy(path);
        if (array.shape.empty() || array.shape.size() > 3) std::abort();
        int64_t count = 1;
        for (int64_t d : array.shape) {
            if (d < 1) std::abort();
            count *= d;  // bounded: every value came from the file
        }
        if (static_cast<size_t>(count) != array.data.size()) std::abort();
        if (array.data.size() * 4 > size) std::abort();  // never more values than the file holds
        for (float v : array.data)
            if (!std::isfinite(v)) std::abort();
    });
    return 0;
}
