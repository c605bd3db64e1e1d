// Catch2 entry point for the whole suite.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

// Catch2 exits with the number of failed assertions, so 4 failures would read as exit 4, which CTest takes for
// "skipped" (SKIP_RETURN_CODE, see tests/CMakeLists.txt). Every failure is exit 1; only skip_test() exits 4.
int main(int argc, char* argv[]) {
    return Catch::Session().run(argc, argv) == 0 ? 0 : 1;
}
