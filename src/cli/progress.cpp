// Progress line on standard error (a terminal only); see progress.hpp.
#include "cli/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace c1r {

std::optional<double> seconds_left(double elapsed_seconds, double work_done, double work_left) {
    if (!(work_done > 0)) return std::nullopt;
    return elapsed_seconds / work_done * std::max(work_left, 0.0);
}

std::string fit_line(const std::string& text, int width) {
    const size_t columns = width > 1 ? static_cast<size_t>(width - 1) : 0;
    std::string out = text.substr(0, std::min(text.size(), columns));
    for (char& c : out)
        if (c < 0x20 || c > 0x7e) c = '?';
    out.resize(columns, ' ');
    return out;
}

int terminal_width(int fd) {
    winsize size{};
    if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    if (const char* columns = std::getenv("COLUMNS")) {
        char* end = nullptr;
        long n = std::strtol(columns, &end, 10);
        if (end != columns && *end == '\0' && n > 0 && n < 100000) return static_cast<int>(n);
    }
    return 80;
}

Progress::Progress(std::vector<double> work, bool enabled)
    : work_(std::move(work)), enabled_(enabled && work_.size() > 1 && isatty(STDERR_FILENO)) {
    double known = 0;
    size_t count = 0;
    for (double w : work_)
        if (w >= 0) known += w, ++count;
    const double mean = count ? known / static_cast<double>(count) : 1.0;
    for (double& w : work_)
        if (w < 0) w = mean;
}

void Progress::update(size_t done, const std::string& current) {
    if (!enabled_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double work_done = std::accumulate(work_.begin(), work_.begin() + static_cast<long>(done), 0.0);
    const double work_left = std::accumulate(work_.begin() + static_cast<long>(done), work_.end(), 0.0);
    const auto left = seconds_left(elapsed, work_done, work_left);
    const std::string head = fmt::format("[{}/{}] ", done, work_.size());
    const std::string tail = fmt::format("  {:.1f}s elapsed, {}", elapsed,
                                         left ? fmt::format("~{:.1f}s left", *left) : "estimating time left");
    // The config's name gets what the counts and times leave, cut from the left (its end tells runs apart).
    const int width = terminal_width(STDERR_FILENO);
    const long room = static_cast<long>(width) - 1 - static_cast<long>(head.size() + tail.size());
    std::string name = current;
    if (room < 8)
        name.clear();
    else if (name.size() > static_cast<size_t>(room))
        name = "..." + name.substr(name.size() - static_cast<size_t>(room - 3));
    fmt::print(stderr, "\r{}", fit_line(head + name + tail, width));
    std::fflush(stderr);
}

void Progress::finish() {
    if (!enabled_) return;
    fmt::print(stderr, "\r{}\r", fit_line("", terminal_width(STDERR_FILENO)));
    std::fflush(stderr);
}

}  // namespace c1r
