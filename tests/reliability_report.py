#!/usr/bin/env python3
"""Writes docs/reliability.md from the fault, load and leak tests.

Runs each binary (build/tests/faults, load, leaks) with Catch2's XML reporter,
takes each test case's "how" from the comment above its TEST_CASE in
tests/capi/<name>.cpp, and adds the fuzz targets' results from their logs
(build-fuzz/corpus/fuzz_<target>.log, written by `tools/dev test`).

    tests/reliability_report.py [--build DIR] [--fuzz-logs DIR] [--out FILE]

Exits 1 when a test failed (the table is written anyway).
"""
import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARIES = [("faults", "fault"), ("load", "load"), ("leaks", "leak")]
FUZZ = {
    "address": "address strings (`/name`, `key:<n>`, `shmid:<n>`, `private`): parse, or EINVAL",
    "array_header": "shared array headers of any bytes and size: a layout that fits, or EBADMSG/EAGAIN, "
                    "no read outside the object (ASan)",
    "signal_name": "signal names: a valid number or EINVAL; number -> name -> number round trip; "
                   "ERANGE for a short buffer",
    "api_sequence": "random sequences of C API calls on a few objects of every kind, with NULL, "
                    "closed and wrong-kind handles and garbage values: 0, a count or a documented "
                    "negative code with a message; a bad handle gives exactly EBADF",
}


def how_of(source):
    """The comment block above each TEST_CASE, by test case name."""
    hows = {}
    lines = open(source).read().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'TEST_CASE\("(.*?)"', line)
        if not m:
            continue
        name = m.group(1)
        # A name split over two string literals.
        if line.rstrip().endswith('"') and i + 1 < len(lines) and lines[i + 1].strip().startswith('"'):
            name += re.match(r'\s*"(.*?)"', lines[i + 1]).group(1)
        comment = []
        j = i - 1
        while j >= 0 and lines[j].startswith("//"):
            comment.insert(0, lines[j][2:].strip())
            j -= 1
        hows[name] = " ".join(comment)
    return hows


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def leaf_sections(element, prefix=""):
    """(path, successes, failures) of every innermost section under element."""
    out = []
    for section in element.findall("Section"):
        path = prefix + section.get("name")
        inner = leaf_sections(section, path + " / ")
        if inner:
            out += inner
        else:
            r = section.find("OverallResults")
            out.append((path, int(r.get("successes")), int(r.get("failures"))))
    return out


def run(binary, env):
    proc = subprocess.run([binary, "-r", "xml", "-d", "yes"], capture_output=True, text=True, env=env)
    start = proc.stdout.find("<?xml")
    if start < 0:
        raise RuntimeError(f"{binary}: no XML report (exit {proc.returncode}): {proc.stderr[-2000:]}")
    end = proc.stdout.find("</Catch>") + len("</Catch>")
    return ET.fromstring(proc.stdout[start:end]), proc.returncode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--fuzz-logs", default=os.path.join(ROOT, "build-fuzz", "corpus"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "reliability.md"))
    args = parser.parse_args()

    env = dict(os.environ, IPC_TOOL=os.path.join(args.build, "tools", "ipc"))
    rows, failed = [], False
    for name, klass in BINARIES:
        hows = how_of(os.path.join(ROOT, "tests", "capi", name + ".cpp"))
        report, status = run(os.path.join(args.build, "tests", name), env)
        failed |= status != 0
        for case in report.iter("TestCase"):
            result = case.find("OverallResult")
            ok = result.get("success") == "true"
            seconds = float(result.get("durationInSeconds", "0"))
            title = case.get("name")
            if title.startswith(klass + ": ") or title.startswith(klass + "s: "):
                title = title.split(": ", 1)[1]
            sections = leaf_sections(case)
            checks = sum(s for _, s, _ in sections) if sections else None
            detail = "; ".join(f"{p}: {'ok' if f == 0 else 'FAILED'} ({s} checks)" for p, s, f in sections)
            outcome = ("passed" if ok else "**FAILED**") + f" in {seconds:.1f} s"
            if detail:
                outcome += ": " + detail
            elif checks is None:
                expressions = case.findall(".//Expression")
                outcome += f" ({len(expressions)} failed checks)" if not ok else ""
            rows.append((klass, title, hows.get(case.get("name"), ""), outcome))

    for target, what in FUZZ.items():
        log = os.path.join(args.fuzz_logs, f"fuzz_{target}.log")
        if not os.path.exists(log):
            rows.append(("bad input", f"fuzz target `{target}`", what, "not run (no log: run `tools/dev test`)"))
            continue
        text = open(log, errors="replace").read()
        runs = re.findall(r"Done (\d+) runs in (\d+) second", text)
        crashed = re.search(r"ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer)|runtime error|deadly signal", text)
        if runs and not crashed:
            outcome = f"passed: {int(runs[-1][0]):,} inputs in {runs[-1][1]} s, no failure"
        else:
            outcome = "**FAILED**: see " + os.path.relpath(log, ROOT)
            failed = True
        rows.append(("bad input", f"fuzz target `{target}` (libFuzzer, ASan+UBSan)", what, outcome))

    log = os.path.join(args.build, "valgrind.log")
    how = ("`valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1` on "
           "build/tests/capi_tests, forked children included; what a child still holds when it ends "
           "with `_exit` is suppressed (tests/valgrind.supp)")
    if os.path.exists(log):
        text = open(log, errors="replace").read()
        summary = re.findall(r"All tests passed \((\d+) assertions in (\d+) test cases\)", text)
        if summary:
            outcome = f"passed: {summary[-1][1]} test cases, {int(summary[-1][0]):,} checks, no error, no leak"
        else:
            outcome = "**FAILED**: see build/valgrind.log"
            failed = True
    else:
        outcome = "not run (no log: run `tools/dev test`)"
    rows.append(("memory", "the C API test suite under valgrind memcheck", how, outcome))

    ops = os.environ.get("IPC_LOAD_OPS", "100000")
    cycles = os.environ.get("IPC_LEAK_CYCLES", "10000")
    with open(args.out, "w") as out:
        out.write("# Reliability\n\n")
        out.write("<!-- Generated by tests/reliability_report.py from the test results; do not edit. -->\n\n")
        out.write("What libipc was put through, how, and what happened: every fault is a real process\n"
                  "killed with `SIGKILL`; load runs 8 processes at once; bad input is fuzzed with libFuzzer\n"
                  "under AddressSanitizer and UndefinedBehaviorSanitizer; the C API test suite runs under\n"
                  "valgrind memcheck. `tools/dev test` regenerates this page.\n\n")
        out.write(f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load: {ops} operations per "
                  f"process, leaks: {cycles} cycles per kind.\n\n")
        out.write("| class | tried | how | result |\n| --- | --- | --- | --- |\n")
        for row in rows:
            out.write("| " + " | ".join(cell(c) for c in row) + " |\n")
    print(f"{args.out}: {len(rows)} rows, {'some FAILED' if failed else 'all passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
