// The progress line of a batch on a terminal: done/total, the current config, elapsed time and the time left
// estimated from each run's work (FLOPs times passes), fitted to the terminal's width so it never wraps.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace c1r {

// Seconds left: the rate so far (elapsed per unit of work done) times the work still to do; none before any
// work is done.
std::optional<double> seconds_left(double elapsed_seconds, double work_done, double work_left);

// `text` in exactly width - 1 columns (the last column is never written, so no terminal wraps): cut, or
// padded with spaces that erase a longer line before it. Bytes outside printable ASCII become '?'.
std::string fit_line(const std::string& text, int width);

// Columns of the terminal on `fd` (TIOCGWINSZ), else $COLUMNS, else 80.
int terminal_width(int fd);

class Progress {
public:
    // `work`: one entry per run, in any unit; an entry < 0 (unknown) counts as the mean of the known ones.
    Progress(std::vector<double> work, bool enabled);
    void update(size_t done, const std::string& current);
    void finish();  // clears the line

private:
    std::vector<double> work_;
    bool enabled_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace c1r
