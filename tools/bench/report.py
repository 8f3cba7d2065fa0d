#!/usr/bin/python3
"""Runs the libipc benchmark suite and reports it as one table.

Each tools/bench/bench_<area> program prints JSON lines (--json): a line per
contender of a case, with its median time per operation and its ratio to the
best alternative, and a line per target. This script runs them all, prints
one table, writes the same as JSON and, when matplotlib is installed, a bar
chart of the ratios.

The Python binding's benchmarks (tools/bench/python.py, given by --python)
run the same way, under this interpreter and with this environment: `ipc
bench` sets PYTHONPATH and IPC_LIBRARY for a build tree.

Usage: report.py BENCH_DIR [--python PYTHON_BENCH] [--json] [--quick] [--output PREFIX]
"""

import argparse
import glob
import json
import os
import platform
import subprocess
import sys


def run(bench_dir, python_bench, quick):
    rows, targets, failures = [], [], []
    programs = sorted(glob.glob(os.path.join(bench_dir, "bench_*")))
    programs = [[p] for p in programs if os.access(p, os.X_OK) and not p.endswith((".p", ".py"))]
    if not programs:
        sys.exit(f"ipc bench: no benchmark programs in {bench_dir} (build with -Dbench=true)")
    if python_bench and os.path.exists(python_bench):
        programs.append([sys.executable, python_bench])
    for program in programs:
        args = program + ["--json"] + (["--quick"] if quick else [])
        print(f"running {os.path.basename(program[-1])}{' --quick' if quick else ''} ...", file=sys.stderr)
        done = subprocess.run(args, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            failures.append(os.path.basename(program[-1]))
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                (targets if "target" in record else rows).append(record)
    return rows, targets, failures


def duration(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def table(rows, targets):
    lines = []
    cases = []
    for row in rows:
        key = (row["area"], row["case"])
        if key not in cases:
            cases.append(key)
    for area, case in cases:
        lines.append(f"\n{area}: {case}")
        lines.append(f"  {'contender':44} {'median':>10} {'ratio':>8}  kind")
        for row in rows:
            if (row["area"], row["case"]) != (area, case):
                continue
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3g}x"
            lines.append(f"  {row['contender']:44} {duration(row['median_ns']):>10} {ratio:>8}  {row['kind']}")
        for t in targets:
            if (t["area"], t["case"]) == (area, case):
                verdict = "met" if t["met"] else "MISSED"
                lines.append(f"  target: {t['target']} <= {t['max_ratio']:.3g}x {t['reference']}: "
                             f"{t['ratio']:.3g}x, {verdict}")
    return "\n".join(lines)


def chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ours = [r for r in rows if r["kind"] == "ours" and r["ratio"] is not None]
    if not ours:
        return False
    labels = [f"{r['area']}: {r['case']}" + ("" if r["contender"] == "libipc" else f" ({r['contender']})")
              for r in ours]
    ratios = [r["ratio"] for r in ours]
    fig, ax = plt.subplots(figsize=(11, 0.4 * len(ours) + 1.5))
    ax.barh(labels, ratios, color=["tab:green" if x <= 1.05 else "tab:red" for x in ratios])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("time per operation / best alternative (log scale; below 1 is faster)")
    ax.set_title("libipc against the best alternative, same run")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench_dir")
    parser.add_argument("--python", metavar="PYTHON_BENCH", help="tools/bench/python.py, run too when it exists")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--quick", action="store_true", help="few short repetitions: a smoke run")
    parser.add_argument("--output", default="ipc-bench", help="prefix of the .json and .png files written")
    args = parser.parse_args()

    rows, targets, failures = run(args.bench_dir, args.python, args.quick)
    machine = {"machine": platform.machine(), "cpus": os.cpu_count(), "kernel": platform.release(),
               "python": platform.python_version(), "quick": args.quick}
    report = {"machine": machine, "results": rows, "targets": targets, "failed_programs": failures}
    with open(args.output + ".json", "w") as out:
        json.dump(report, out, indent=2)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(rows, targets))
        print(f"\nwritten: {args.output}.json", end="")
        print(f", {args.output}.png" if chart(rows, args.output + ".png") else
              " (no chart: matplotlib is not installed)")
    if failures:
        print(f"ipc bench: these programs failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
