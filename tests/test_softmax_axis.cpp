// softmax over the batch axis (axis 0) and `log` (log-softmax), in both data formats and on rank 2: the saved
// output against softmax computed here in double across the samples.
#include "test_helpers.hpp"

#include <cmath>

#include "io/npy.hpp"

using namespace c1r_test;

namespace {

// Softmax (or log-softmax) over axis 0 of a row-major (n, rest) buffer.
std::vector<double> softmax_over_first(const std::vector<float>& x, int64_t n, bool log) {
    const size_t rest = x.size() / static_cast<size_t>(n);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < rest; ++i) {
        double m = -INFINITY, sum = 0;
        for (int64_t b = 0; b < n; ++b) m = std::max(m, static_cast<double>(x[b * rest + i]));
        for (int64_t b = 0; b < n; ++b) sum += std::exp(x[b * rest + i] - m);
        for (int64_t b = 0; b < n; ++b) {
            const double e = x[b * rest + i] - m;
            y[b * rest + i] = log ? e - std::log(sum) : std::exp(e) / sum;
        }
    }
    return y;
}

}  // namespace

TEST_CASE("softmax axis 0 normalises across the batch, and log gives log-softmax", "[softmax][e2e]") {
    TempDir tmp("c1r_softmax");
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 4, 2}, std::vector<int64_t>{4, 5}})
        for (const char* format : {"channels_last", "channels_first"})
            for (bool log : {false, true}) {
                INFO(format << " rank " << shape.size() << " log " << log);
                int64_t count = 1;
                for (int64_t d : shape) count *= d;
                std::vector<float> x(static_cast<size_t>(count));
                for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.7 * i) * 3.0);
                c1r::write_npy(tmp.file("x.npy"), shape, x.data(), x.size());
                json config = {{"data_format", format},
                               {"input", {{"shape", shape}}},
                               {"layers", {{{"type", "softmax"}, {"axis", 0}, {"log", log}}}},
                               {"run", {{"warmup", 0}, {"repeats", 1}, {"threads", 1}}}};
                ProcessResult r = run_binary({tmp.write_json("m.json", config), "--input", tmp.file("x.npy"),
                                              "--save-output", tmp.file("y.npy"), "--verify", "--quiet"});
                INFO(r.err);
                REQUIRE(r.exit_code == 0);
                c1r::NpyArray y = c1r::read_npy(tmp.file("y.npy"));
                REQUIRE(y.shape == shape);
                const std::vector<double> want = softmax_over_first(x, shape[0], log);
                for (size_t i = 0; i < want.size(); ++i) CHECK(y.data[i] == Approx(want[i]).margin(1e-5));
            }
}

TEST_CASE("softmax: an axis outside the input is a config error naming the key", "[softmax][bad]") {
    TempDir tmp("c1r_softmax");
    json config = {{"input", {{"shape", {2, 3}}}}, {"layers", {{{"type", "softmax"}, {"axis", 2}}}}};
    ProcessResult r = run_binary({tmp.write_json("m.json", config), "--dry-run"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/layers/0/axis") != std::string::npos);
    CHECK(r.err.find("axes 0..1 with 0 the batch") != std::string::npos);
}
