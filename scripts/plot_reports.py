#!/usr/bin/python3
"""Draws PNGs from conv1d-reshape JSONL reports: the shape flow of a stack, or time and GFLOP/s across a sweep.

Usage:
  conv1d-reshape configs/encoder_decoder.json --format jsonl | scripts/plot_reports.py --kind flow --out docs/img
  scripts/plot_reports.py sweep.jsonl --kind sweep --out plots/
  scripts/plot_reports.py reports.jsonl            # auto: sweep plots for sweeps, flow plots for the other runs

Input: JSONL (one report per line) from a file or standard input ("-" or nothing); a --format json document
(one object or an array) is read too. Failed runs (objects with "error") are skipped with a note on stderr.

  --kind flow   one PNG per run (or the runs --run picks): length and channels after every layer; once a
                permute or reshape mixes length and channels (the table's RF and jump "-"), the points are
                hollow, dashed, greyed and starred: "length" there is not time
  --kind sweep  one PNG per swept config: median forward time and GFLOP/s against a swept value; with two or
                more swept pointers, one line per value of the others (--x picks the pointer for the x axis)
  --kind auto   sweep plots for configs with sweep points, flow plots for plain runs (the default)

The PNG paths are printed on standard output, one per line. Exit code 2 for bad input (empty, unparsable,
nothing to plot), as conv1d-reshape does for a bad config.
Run with /usr/bin/python3: it has Debian's python3-matplotlib and python3-numpy.
"""
import argparse
import json
import os
import re
import sys
from collections import OrderedDict

SCHEMA = "conv1d-reshape/report/v1"


class InputError(Exception):
    """Bad input or nothing to plot: exit 2 with a one-line message."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="plot_reports.py",
        description="Plot conv1d-reshape JSONL reports: shape flow of a stack, or time and GFLOP/s over a sweep.",
        epilog="Example: conv1d-reshape configs/encoder_decoder.json --format jsonl | %(prog)s --out plots/")
    parser.add_argument("input", nargs="?", default="-", help="JSONL report file, or - for standard input (default)")
    parser.add_argument("--out", default=".", metavar="DIR", help="folder for the PNGs (created if missing; default .)")
    parser.add_argument("--kind", choices=["flow", "sweep", "auto"], default="auto", help="what to draw (default auto)")
    parser.add_argument("--run", action="append", metavar="NAME|N",
                        help="flow: only runs with this name, or the N-th report (1-based); repeatable")
    parser.add_argument("--x", metavar="POINTER", help="sweep: the swept JSON pointer for the x axis "
                        "(default: the one with the most values)")
    parser.add_argument("--dpi", type=int, default=110, help="resolution of the PNGs (default 110)")
    return parser.parse_args(argv)


def read_reports(path):
    """All report objects of the input, in order, each with its 1-based position as "_index"."""
    source = "standard input" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (path, e.strerror))
    if not text.strip():
        raise InputError("%s is empty: expected conv1d-reshape reports (--format jsonl)" % source)
    stripped = text.lstrip()
    if stripped.startswith("["):  # --format json with several runs
        try:
            values = json.loads(text)
        except ValueError as e:
            raise InputError("%s: not valid JSON: %s" % (source, e))
    else:
        values = []
        decoder = json.JSONDecoder()
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                values.append(decoder.decode(line))
            except ValueError as e:
                if number == 1 and stripped.startswith("{"):  # --format json with one run: an indented object
                    try:
                        values = [json.loads(text)]
                        break
                    except ValueError:
                        pass
                raise InputError("%s:%d: not a JSON report line: %s" % (source, number, e))
    reports = []
    for position, value in enumerate(values, 1):
        if not isinstance(value, dict) or value.get("schema") != SCHEMA:
            raise InputError("%s: report %d is not a conv1d-reshape report (schema %s)" % (source, position, SCHEMA))
        value["_index"] = position
        reports.append(value)
    return reports


def split_failed(reports):
    good = [r for r in reports if "error" not in r]
    failed = len(reports) - len(good)
    if failed:
        print("plot_reports.py: skipped %d failed run(s)" % failed, file=sys.stderr)
    return good


def length_and_channels(shape, data_format):
    """(length, channels) of a (batch, ., .) shape in the run's data format (SPEC §3)."""
    if data_format == "channels_first":
        return shape[2], shape[1]
    return shape[1], shape[2]


def point_text(point):
    """k=3, L=1024 style text for a point object; the pointer's last two parts keep it short."""
    if not point:
        return ""
    parts = []
    for pointer, value in point.items():
        tokens = [t for t in pointer.split("/") if t]
        key = tokens[-1] if tokens and not tokens[-1].isdigit() else "/".join(tokens[-2:])
        parts.append("%s=%s" % (key, json.dumps(value)))
    return ", ".join(parts)


def safe_name(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def layer_label(layer):
    settings = layer.get("settings") or ""
    label = "%d %s" % (layer["index"], layer["type"])
    return label + ("\n" + settings if settings else "")


def pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


# ---------------------------------------------------------------------------------------------------- flow

def flow_series(report):
    """Labels, lengths, channels and mixed flags of the flow plot: one entry for the input, one per layer.

    A point is mixed when length and channels are mixed by then (a permute, or a reshape that changes the
    shape, on some path): the report gives it no receptive field and no jump, and the table prints "-" in both
    columns. Its "length" is not time any more (after a permute [2,1] the filter count becomes the length), so
    the plot marks it rather than drawing it as growth in time. (A null jump alone, where paths disagree, is
    not mixing.)
    """
    data_format = report.get("data_format", "channels_last")
    labels = ["input"]
    length, chans = length_and_channels(report["input"]["shape"], data_format)
    lengths, channels, mixed = [length], [chans], [False]
    for layer in report["layers"]:
        length, chans = length_and_channels(layer["output_shape"], data_format)
        lengths.append(length)
        channels.append(chans)
        mixed.append(layer.get("receptive_field") is None)
        labels.append(layer_label(layer) + ("\n(axes mixed)" if mixed[-1] else ""))
    return labels, lengths, channels, mixed


def plot_flow(report, out_dir, dpi, used_names):
    plt = pyplot()
    data_format = report.get("data_format", "channels_last")
    labels, lengths, channels, mixed = flow_series(report)
    steps = list(range(len(labels)))
    first_mixed = mixed.index(True) if any(mixed) else None

    width = max(7.0, 1.25 * len(labels) + 1.5)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(width, 6.2))
    for axis, values, name, colour in ((top, lengths, "length (time steps)", "tab:blue"),
                                      (bottom, channels, "channels", "tab:orange")):
        # Solid while length is time; dashed, hollow and greyed once length and channels are mixed.
        end = len(steps) if first_mixed is None else first_mixed
        axis.plot(steps[:end], values[:end], marker="o", color=colour, linewidth=2)
        axis.fill_between(steps[:end], values[:end], color=colour, alpha=0.12)
        if first_mixed is not None:
            tail = steps[first_mixed - 1:]
            axis.plot(tail, values[first_mixed - 1:], color="grey", linewidth=1.5, linestyle="--")
            axis.plot(steps[first_mixed:], values[first_mixed:], linestyle="none", marker="o",
                      markerfacecolor="white", markeredgecolor="grey")
            axis.axvspan(first_mixed - 0.5, steps[-1] + 0.5, color="grey", alpha=0.08)
        axis.set_ylabel(name)
        axis.set_ylim(0, max(values) * 1.22)
        axis.grid(True, axis="y", alpha=0.3)
        for x, value, is_mixed in zip(steps, values, mixed):
            axis.annotate(str(value) + ("*" if is_mixed else ""), (x, value), textcoords="offset points",
                          xytext=(0, 7), ha="center", fontsize=9, color="grey" if is_mixed else "black")
    if first_mixed is not None:
        top.text(first_mixed - 0.45, max(lengths) * 1.12,
                 "* length and channels mixed from here (RF and jump \"-\"): not time steps",
                 fontsize=8, color="dimgrey", va="center")
    bottom.set_xticks(steps)
    bottom.set_xticklabels(labels, fontsize=8)
    shape_in = "x".join(str(d) for d in report["input"]["shape"])
    shape_out = "x".join(str(d) for d in report["output"]["shape"])
    title = "%s: %s \u2192 %s" % (report.get("name") or report["config"], shape_in, shape_out)
    if report.get("point"):
        title += "  (%s)" % point_text(report["point"])
    subtitle = "shape flow per layer (%s)" % data_format
    median = (report.get("timing") or {}).get("forward_ms", {}).get("median")
    if median is not None:
        subtitle += ", forward median %.3g ms" % median
    fig.suptitle(title + "\n" + subtitle, fontsize=11)
    fig.tight_layout()

    base = "flow-" + safe_name(report.get("name") or os.path.basename(report["config"]))
    if report.get("point"):
        base += "-" + safe_name(point_text(report["point"]).replace(", ", "-"))
    name, n = base, 2
    while name in used_names:  # the same config twice in one input: keep both
        name, n = "%s-%d" % (base, n), n + 1
    used_names.add(name)
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def select_runs(reports, selectors):
    if not selectors:
        return reports
    chosen = []
    for report in reports:
        for selector in selectors:
            if selector.isdigit() and int(selector) == report["_index"] or report.get("name") == selector:
                chosen.append(report)
                break
    if not chosen:
        names = sorted({str(r.get("name")) for r in reports})
        raise InputError("--run %s matches no run (names: %s; or give a 1-based position)"
                         % (", ".join(selectors), ", ".join(names)))
    return chosen


# ---------------------------------------------------------------------------------------------------- sweep

def sweep_groups(reports):
    """Reports with a point object, grouped by (config, name) in input order."""
    groups = OrderedDict()
    for report in reports:
        if report.get("point"):
            groups.setdefault((report["config"], report.get("name")), []).append(report)
    return groups


def numeric(values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def plot_sweep(key, reports, x_pointer, out_dir, dpi):
    plt = pyplot()
    config, name = key
    pointers = list(reports[0]["point"].keys())
    distinct = OrderedDict((p, []) for p in pointers)
    for report in reports:
        for p in pointers:
            value = report["point"].get(p)
            if value not in distinct[p]:
                distinct[p].append(value)
    if x_pointer is None:
        x_pointer = max(pointers, key=lambda p: (len(distinct[p]), pointers.index(p)))
    elif x_pointer not in pointers:
        raise InputError("--x %s is not swept in %s (swept: %s)" % (x_pointer, config, ", ".join(pointers)))
    others = [p for p in pointers if p != x_pointer]

    timed = [r for r in reports if r.get("timing")]
    if not timed:
        raise InputError("%s: the sweep points have no timing (run without --dry-run to plot time)" % config)
    x_values = distinct[x_pointer]
    x_numeric = numeric(x_values)
    series = OrderedDict()
    for report in timed:
        label = point_text({p: report["point"][p] for p in others}) if others else None
        x = report["point"][x_pointer]
        series.setdefault(label, []).append((x if x_numeric else x_values.index(x), report))

    fig, (time_axis, rate_axis) = plt.subplots(1, 2, figsize=(12, 4.8))
    for label, points in series.items():
        points.sort(key=lambda item: item[0])
        xs = [x for x, _ in points]
        times = [r["timing"]["forward_ms"]["median"] for _, r in points]
        rates = [r["timing"]["gflops"] for _, r in points]
        time_axis.plot(xs, times, marker="o", label=label)
        rate_axis.plot(xs, rates, marker="o", label=label)
    x_label = x_pointer
    if x_numeric and min(x_values) > 0 and max(x_values) / min(x_values) >= 16:
        for axis in (time_axis, rate_axis):
            axis.set_xscale("log", base=2)
    for axis in (time_axis, rate_axis):
        axis.set_xlabel(x_label)
        axis.grid(True, which="both", alpha=0.3)
        if x_numeric:
            axis.set_xticks(x_values)
            axis.set_xticklabels([str(v) for v in x_values], rotation=45 if len(x_values) > 8 else 0)
            axis.minorticks_off()
        else:
            axis.set_xticks(range(len(x_values)))
            axis.set_xticklabels([json.dumps(v) for v in x_values])
    all_times = [r["timing"]["forward_ms"]["median"] for r in timed]
    if min(all_times) > 0 and max(all_times) / min(all_times) >= 50:
        time_axis.set_yscale("log")
    time_axis.set_ylabel("median forward time (ms)")
    rate_axis.set_ylabel("GFLOP/s (at the median)")
    rate_axis.set_ylim(bottom=0)
    if others:
        time_axis.legend(title=", ".join(others), fontsize=8, title_fontsize=8)
    first = timed[0]
    fig.suptitle("%s: sweep over %s\n%d points, %s, threads %s, oneDNN %s"
                 % (name or config, x_pointer, len(timed), first.get("dtype"),
                    "/".join(sorted({str(r.get("threads")) for r in timed})), first.get("onednn")), fontsize=11)
    fig.tight_layout()
    path = os.path.join(out_dir, "sweep-%s.png" % safe_name(name or os.path.basename(config)))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    skipped = len(reports) - len(timed)
    if skipped:
        print("plot_reports.py: %s: %d point(s) without timing left out" % (config, skipped), file=sys.stderr)
    return path


# ---------------------------------------------------------------------------------------------------- main

def main(argv):
    args = parse_args(argv)
    try:
        reports = split_failed(read_reports(args.input))
        if not reports:
            raise InputError("every run in the input failed: nothing to plot")
        groups = sweep_groups(reports)
        if args.kind == "sweep" and not groups:
            raise InputError("no sweep points in the input: a sweep plot needs reports with a \"point\" object "
                             "(run a config that has a \"sweep\")")
        os.makedirs(args.out, exist_ok=True)
        written = []
        if args.kind == "sweep" or (args.kind == "auto" and groups):
            for key, members in groups.items():
                written.append(plot_sweep(key, members, args.x, args.out, args.dpi))
        if args.kind == "flow" or args.kind == "auto":
            runs = reports if args.kind == "flow" else [r for r in reports if not r.get("point")]
            used = set()
            for report in select_runs(runs, args.run) if (args.kind == "flow" or args.run) else runs:
                written.append(plot_flow(report, args.out, args.dpi, used))
        if not written:
            raise InputError("nothing to plot")
        for path in written:
            print(path)
        return 0
    except InputError as e:
        print("plot_reports.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
