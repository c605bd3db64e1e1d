// libFuzzer target: bytes as a Keras .h5 file -> read_keras_model_file (HDF5 C API through the sec2 driver).
// Seeds: tests/fixtures/keras_files/*.h5. Inputs without the HDF5 signature are skipped (fuzz_keras_zip and
// the JSON fuzzers cover the other formats). libhdf5 itself is not instrumented: coverage and sanitizers see
// our code, and a crash inside libhdf5 still shows as a crash.
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz_common.hpp"
#include "import/keras_file.hpp"

// HDF5 1.10.8 leaks metadata-cache entries when H5Fopen fails on some damaged files (a library bug, under
// H5F_open; the fast unwinder cannot see past libhdf5's first frame, so the whole library is suppressed).
// That our code closes every HDF5 object it opens is checked after each input instead; leaks elsewhere still
// count.
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }
// HDF5 mallocs metadata buffers of the sizes a damaged file declares before checking them against the file; a
// plain malloc then returns NULL and HDF5 fails cleanly. Let ASan's malloc do the same (our code allocates
// with new, which still throws std::bad_alloc, a bug for expect_clean).
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace c1r;
    H5dont_atexit();  // as the readers do, also when an input never reaches them (see h5_reader.cpp)
    if (size < 8 || std::memcmp(data, "\x89HDF\r\n\x1a\n", 8) != 0) return 0;
    const std::string& path = fuzz::mem_file().write(data, size);
    fuzz::expect_clean([&] { read_keras_model_file(path); });
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) {
        std::fprintf(stderr, "BUG: HDF5 objects left open after reading\n");
        std::abort();
    }
    return 0;
}
