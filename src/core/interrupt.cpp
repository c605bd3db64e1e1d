// Signal flag and deadlines; the batch loop and the timing loops poll them between oneDNN calls.
#include "core/interrupt.hpp"

#include <csignal>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "core/error.hpp"

namespace c1r {
namespace {

// A signal handler can only talk through a lock-free global; nothing else in the tool is global.
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int signal) {
    if (g_signal != 0) _exit(128 + signal);  // asked twice: the user means now
    g_signal = signal;
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

int pending_signal() { return g_signal; }

Deadline::Deadline(double seconds) : seconds_(seconds) {
    if (seconds > 0)
        end_ = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

void Deadline::check() const { check(std::chrono::steady_clock::now()); }

void Deadline::check(std::chrono::steady_clock::time_point now) const {
    if (g_signal != 0) throw Interrupted{g_signal};
    if (end_ && now > *end_) {
        char text[64];
        std::snprintf(text, sizeof text, "%g", seconds_);
        throw Error(ErrorKind::runtime, std::string("timed out: the run took longer than --timeout ") + text + " s");
    }
}

}  // namespace c1r
