// Strict reader and atomic writer for NumPy .npy files holding float32/float64 arrays of 1 to 3 dims (up to 8
// for a model input with an axis order, layers/layout.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <functional>
#include <vector>

#include "io/atomic_file.hpp"  // write_file_atomically, which the writers here and elsewhere use

namespace c1r {

struct NpyArray {
    std::vector<int64_t> shape;  // as in the file (1-D, 2-D or 3-D)
    std::vector<float> data;     // converted to float32, always in C (row-major) order
};

// Reads a .npy file: format versions 1.0, 2.0 and 3.0; dtypes float32 and float64 with byte order
// '<', '>' or '=' (host order); C or Fortran order; 1 to `max_dims` dimensions, each >= 1;
// every value finite (float64 values must also fit float32).
// Throws Error(ErrorKind::input) with a one-line "<path>: <what>" message for anything else.
NpyArray read_npy(const std::string& path, size_t max_dims = 3);

// Writes float32 little-endian, C order, format 1.0 (2.0 only if the header needs it).
// Atomic: writes "<path>.tmp.XXXXXX" in the same folder and renames it into place; on failure the
// temporary file is removed and Error(ErrorKind::input if the folder does not exist, else runtime)
// is thrown. The product of `shape` must equal `count`.
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data, size_t count);

}  // namespace c1r
