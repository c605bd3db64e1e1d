// Cooperative stopping: SIGINT/SIGTERM and per-run time limits, checked between oneDNN calls.
#pragma once

#include <chrono>
#include <optional>

namespace c1r {

// Thrown when SIGINT or SIGTERM arrived; deliberately not a std::exception so no run-level handler swallows it.
struct Interrupted {
    int signal;
};

// Installs handlers that only record the signal; a second signal of either kind ends the process at once.
void install_interrupt_handlers();
// The signal received so far, or 0.
int pending_signal();

// A run's time limit. check() throws Interrupted on a signal and Error(runtime) once the limit has passed.
class Deadline {
public:
    Deadline() = default;
    explicit Deadline(double seconds);
    void check() const;
    void check(std::chrono::steady_clock::time_point now) const;

private:
    std::optional<std::chrono::steady_clock::time_point> end_;
    double seconds_ = 0;
};

}  // namespace c1r
