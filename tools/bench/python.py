#!/usr/bin/python3
"""Benchmarks of libipc's Python binding against what a Python user would pick.

The same method and output as tools/bench/harness.hpp: per case, every
contender runs one block per repetition, in an order rotated from one
repetition to the next; the median time per operation of each, its ratio to
the best alternative, and the targets. --json prints the harness's JSON lines
(the same keys), which report.py reads.

Cases: create + attach of a shared memory object (multiprocessing.shared_memory),
a two-process semaphore round trip (multiprocessing.Semaphore with the fork
context, sysv_ipc.Semaphore; libc sem_t through ctypes for scale), a 64-byte message round trip
(multiprocessing.Queue and Pipe, sysv_ipc.MessageQueue), a frame handed to
another process through ipc.SharedArray (zero-copy) against
multiprocessing.Queue (pickled), and writing 64 MiB into a SharedArray against
a private numpy copy. A case whose binding is not there (an older libipc) is
skipped with a note on stderr, as is an alternative that is not installed.

Run from a build tree with PYTHONPATH=bindings/python and
IPC_LIBRARY=build/libipc.so.1 (`ipc bench` sets both):
    /usr/bin/python3 tools/bench/python.py [--quick] [--json] [--filter TEXT] [--no-pin]
"""

import argparse
import ctypes
import json
import mmap
import multiprocessing
import os
import signal
import statistics
import sys
import time

import ipc

try:
    import numpy
except ImportError:
    numpy = None
try:
    import sysv_ipc
except ImportError:
    sysv_ipc = None

AREA = "python"
OURS, ALTERNATIVE, REFERENCE = "ours", "alternative", "reference"
SPIN_NS = 50_000
fork = multiprocessing.get_context("fork")


def skipped(what):
    print(f"bench python: skipped: {what}", file=sys.stderr)


class Harness:
    """harness.hpp's Harness, for contenders written in Python: a contender
    is (name, kind, run) where run(n) performs n operations and returns
    their nanoseconds, its set-up not timed."""

    def __init__(self, args):
        self.json, self.filter = args.json, args.filter or ""
        self.reps, self.block_ns = (5, 3e6) if args.quick else (args.reps, args.block_ms * 1e6)
        self.pinned = not args.no_pin and pin(0)
        self.missed = False
        self._note = ""

    def selected(self, case):
        return self.filter in case

    def note(self, text):
        self._note = text

    def calibrate(self, run):
        n = 1
        while True:
            took = run(n)
            if took >= self.block_ns / 4 or n >= 1 << 30:
                return max(1, int(n * self.block_ns / max(took, 1.0)))
            n *= 2

    def run(self, case, contenders, targets=()):
        if not self.selected(case) or not contenders:
            return
        ns = [self.calibrate(c[2]) for c in contenders]
        samples = [[] for _ in contenders]
        for r in range(self.reps):
            for k in range(len(contenders)):
                c = (k + r) % len(contenders)  # rotate the order
                samples[c].append(contenders[c][2](ns[c]) / ns[c])
        rows = []
        for (name, kind, _), n, s in zip(contenders, ns, samples):
            q = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else [s[0]] * 3
            rows.append({"area": AREA, "case": case, "contender": name, "kind": kind, "median_ns": q[1],
                         "p25_ns": q[0], "p75_ns": q[2], "ops_per_block": n, "reps": self.reps})
        alternatives = [row for row in rows if row["kind"] == ALTERNATIVE]
        best = min(alternatives, key=lambda row: row["median_ns"]) if alternatives else None
        for row in rows:
            row["best_alternative"] = best["contender"] if best else None
            row["ratio"] = row["median_ns"] / best["median_ns"] if best else None
            if self._note:
                row["note"] = self._note
        self.report(case, rows, best, targets)
        self._note = ""

    def report(self, case, rows, best, targets):
        if not self.json:
            print(f"\n{AREA}: {case}  ({self.reps} repetitions, medians per operation)")
            if self._note:
                print(f"  {self._note}")
            print(f"  {'contender':40} {'median':>12} {'spread':>8} "
                  f"{('x ' + best['contender'][:14]) if best else 'ratio':>10}")
        for row in rows:
            if self.json:
                print(json.dumps(row))
            else:
                spread = 100 * (row["p75_ns"] - row["p25_ns"]) / row["median_ns"]
                ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3g}x"
                print(f"  {row['contender']:40} {duration(row['median_ns']):>12} {spread:7.0f}% {ratio:>10}"
                      + ("  (reference)" if row["kind"] == REFERENCE else ""))
        medians = {row["contender"]: row["median_ns"] for row in rows}
        for contender, reference, bound in targets:
            if contender not in medians or reference not in medians:
                continue
            ratio = medians[contender] / medians[reference]
            met = ratio <= bound
            self.missed |= not met
            if self.json:
                print(json.dumps({"area": AREA, "case": case, "target": contender, "reference": reference,
                                  "ratio": ratio, "max_ratio": bound, "met": met}))
            else:
                print(f"  target: {contender} <= {bound:.3g}x {reference}: {ratio:.3g}x, "
                      f"{'met' if met else 'MISSED'}")
        sys.stdout.flush()


def duration(ns):
    for unit, scale in (("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.1f} ns"


def pin(index, pid=0):
    """Pins `pid` (0: this process) to the index-th CPU this process could
    first run on, as bench::pin does; False with a single CPU."""
    allowed = sorted(pin.allowed)
    if len(allowed) < 2:
        return False
    os.sched_setaffinity(pid, {allowed[index % len(allowed)]})
    return True


pin.allowed = os.sched_getaffinity(0)


class PeerFailed(Exception):
    pass


def round_trips(harness, make):
    """A run(n) timing n round trips between this process and a forked peer:
    make() builds the objects before the fork and returns (ping, pong,
    close[, finish]): ping passes the turn and waits for it back, pong (in
    the peer) waits for it and passes it back, close (in the parent) cleans
    up, finish (in the peer, before it exits) flushes what it sent."""

    def run(n):
        ping, pong, close, *finish = make()
        warmup = min(50, n)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                for _ in range(warmup + n):
                    pong()
                for done in finish:
                    done()
            except BaseException as e:  # the parent reports it by the status
                print(f"bench python: peer: {e!r}", file=sys.stderr)
                status = 1
            os._exit(status)
        def on_child(*_):  # a peer that failed would leave the parent waiting for ever
            ended, status = os.waitpid(pid, os.WNOHANG)
            if ended and status != 0:
                raise PeerFailed
        previous = signal.signal(signal.SIGCHLD, on_child)
        status = None
        try:
            if harness.pinned:
                pin(1, pid)
            for _ in range(warmup):
                ping()
            start = time.perf_counter_ns()
            for _ in range(n):
                ping()
            took = time.perf_counter_ns() - start
        except PeerFailed:
            sys.exit("bench python: the peer process failed")
        finally:
            signal.signal(signal.SIGCHLD, previous)
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:  # reaped by on_child: it exited 0
                status = 0
            close()
        if status != 0:
            sys.exit("bench python: the peer process failed")
        return took

    return run


def pair(post, wait):
    """ping/pong over two one-way channels: post(k) and wait(k) on channel k."""
    def ping():
        post(0)
        wait(1)

    def pong():
        wait(0)
        post(1)
    return ping, pong


def unique(tag):
    unique.count += 1
    return f"ipc-bench-{tag}-{os.getpid()}-{unique.count}"


unique.count = 0


def shm_cases(h):
    from multiprocessing import shared_memory
    size = 1 << 20

    def ours(n):
        start = time.perf_counter_ns()
        for _ in range(n):
            name = "/" + unique("shm")
            made = ipc.SharedMemory(name, create=True, size=size)
            ipc.SharedMemory(name).close()
            made.unlink()
            made.close()
        return time.perf_counter_ns() - start

    def theirs(n):
        start = time.perf_counter_ns()
        for _ in range(n):
            name = unique("mp")
            made = shared_memory.SharedMemory(name, create=True, size=size)
            shared_memory.SharedMemory(name).close()
            made.unlink()
            made.close()
        return time.perf_counter_ns() - start

    h.note("create a 1 MiB object, attach it by name, close both, unlink; "
           "multiprocessing also registers each with its resource tracker")
    h.run("shared memory: create + attach + close + unlink",
          [("ipc.SharedMemory", OURS, ours),
           ("multiprocessing.shared_memory", ALTERNATIVE, theirs)])


def semaphore_cases(h):
    def ours(spin):
        def make():
            memory = mmap.mmap(-1, 4096)
            sems = [ipc.Semaphore.init(memory, 128 * k) for k in range(2)]
            for s in sems:
                s.spin = spin
            ping, pong = pair(lambda k: sems[k].release(), lambda k: sems[k].acquire())
            return ping, pong, lambda: [s.close() for s in sems]
        return make

    def multiprocessing_semaphores():
        sems = [fork.Semaphore(0) for _ in range(2)]
        ping, pong = pair(lambda k: sems[k].release(), lambda k: sems[k].acquire())
        return ping, pong, lambda: None

    def sysv_semaphores():
        sems = [sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX, initial_value=0) for _ in range(2)]
        ping, pong = pair(lambda k: sems[k].release(), lambda k: sems[k].acquire())
        return ping, pong, lambda: [s.remove() for s in sems]

    def libc_semaphores():
        # sem_t through ctypes: the cost of a bare call from Python, for scale.
        libc = ctypes.CDLL(None, use_errno=True)
        memory = mmap.mmap(-1, 4096)
        base = ctypes.addressof(ctypes.c_char.from_buffer(memory))
        sems = [ctypes.c_void_p(base + 128 * k) for k in range(2)]
        for sem in sems:
            libc.sem_init(sem, 1, 0)

        def wait(k):
            while libc.sem_wait(sems[k]) != 0:
                pass
        ping, pong = pair(lambda k: libc.sem_post(sems[k]), wait)
        return ping, pong, memory.close  # which keeps the mapping alive until the block ends

    spin = f"ipc.Semaphore spin {SPIN_NS // 1000} us"
    contenders = [
        ("ipc.Semaphore", OURS, round_trips(h, ours(0))),
        (spin, OURS, round_trips(h, ours(SPIN_NS))),
        ("multiprocessing.Semaphore", ALTERNATIVE, round_trips(h, multiprocessing_semaphores)),
    ]
    if sysv_ipc:
        contenders.append(("sysv_ipc.Semaphore", ALTERNATIVE, round_trips(h, sysv_semaphores)))
    else:
        skipped("sysv_ipc is not installed (Debian: python3-sysv-ipc)")
    contenders.append(("libc sem_t through ctypes", REFERENCE, round_trips(h, libc_semaphores)))
    h.note("round trip = release + acquire on each side (in-memory semaphores for ipc); " + where(h))
    h.run("semaphore round trip between 2 processes", contenders,
          [("ipc.Semaphore", "multiprocessing.Semaphore", 0.9), (spin, "multiprocessing.Semaphore", 0.2)])


def message_cases(h):
    message = bytes(64)

    def ours():
        queues = [ipc.MessageQueue.create("/" + unique("mq"), 1, len(message), unlink_on_close=True)
                  for _ in range(2)]
        ping, pong = pair(lambda k: queues[k].send(message), lambda k: queues[k].receive())
        return ping, pong, lambda: [q.close() for q in queues]

    def mp_queue():
        queues = [fork.Queue() for _ in range(2)]

        def close():  # in the peer too: its last put is in the feeder thread until then
            for q in queues:
                q.close()
                q.join_thread()
        ping, pong = pair(lambda k: queues[k].put(message), lambda k: queues[k].get())
        return ping, pong, close, close

    def mp_pipe():
        a, b = fork.Pipe()
        ping, pong = pair(lambda k: (a if k == 0 else b).send_bytes(message),
                          lambda k: (b if k == 0 else a).recv_bytes())
        return ping, pong, lambda: (a.close(), b.close())

    def sysv_queue():
        queues = [sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX) for _ in range(2)]
        ping, pong = pair(lambda k: queues[k].send(message), lambda k: queues[k].receive())
        return ping, pong, lambda: [q.remove() for q in queues]

    if not hasattr(ipc, "MessageQueue"):
        skipped("message round trip: ipc.MessageQueue is not in this binding")
        return
    contenders = [("ipc.MessageQueue", OURS, round_trips(h, ours)),
                  ("multiprocessing.Queue", ALTERNATIVE, round_trips(h, mp_queue)),
                  ("multiprocessing.Pipe", ALTERNATIVE, round_trips(h, mp_pipe))]
    if sysv_ipc:
        contenders.append(("sysv_ipc.MessageQueue", ALTERNATIVE, round_trips(h, sysv_queue)))
    h.note("round trip = send + receive of 64 bytes on each side; " + where(h))
    h.run("message round trip between 2 processes", contenders)


def array_cases(h):
    if numpy is None or not hasattr(ipc, "SharedArray"):
        skipped("arrays: " + ("numpy is not installed" if numpy is None else
                              "ipc.SharedArray is not in this binding"))
        return
    shape = (1024, 2048)  # 8 MiB of float32: a camera frame
    frame = numpy.asfortranarray(numpy.random.default_rng(1).random(shape, dtype=numpy.float32))

    def shared():
        array = ipc.SharedArray("/" + unique("array"), numpy.float32, shape, unlink_on_close=True)
        sems = [fork.Semaphore(0) for _ in range(2)]

        def ping():
            array[...] = frame  # the producer writes the frame where the consumer sees it
            sems[0].release()
            sems[1].acquire()

        def pong():
            sems[0].acquire()
            if array[-1, -1] != frame[-1, -1]:
                raise AssertionError("the frame did not arrive")
            sems[1].release()
        return ping, pong, lambda: None

    def queued():
        queue, done = fork.Queue(), fork.Semaphore(0)

        def ping():
            queue.put(frame)
            done.acquire()

        def pong():
            got = queue.get()
            if got[-1, -1] != frame[-1, -1]:
                raise AssertionError("the frame did not arrive")
            done.release()

        def close():
            queue.close()
            queue.join_thread()
        return ping, pong, close

    h.note("hand an 8 MiB float32 array to another process, which reads it as numpy and acknowledges; "
           + where(h))
    h.run("numpy frame to another process",
          [("ipc.SharedArray (zero-copy)", OURS, round_trips(h, shared)),
           ("multiprocessing.Queue (pickled)", ALTERNATIVE, round_trips(h, queued))])

    big = (4096, 4096)  # 64 MiB of float32
    source = numpy.asfortranarray(numpy.ones(big, dtype=numpy.float32))

    def write(make):
        def run(n):
            target = make()
            numpy.copyto(target, source)  # first touch (page faults) untimed: the bandwidth is timed
            start = time.perf_counter_ns()
            for _ in range(n):
                numpy.copyto(target, source)
            return time.perf_counter_ns() - start
        return run

    h.note("numpy.copyto of 64 MiB of float32 into a destination written once before (one process)")
    h.run("write 64 MiB into an array",
          [("ipc.SharedArray", OURS,
            write(lambda: ipc.SharedArray("/" + unique("big"), numpy.float32, big, unlink_on_close=True))),
           ("private numpy array", ALTERNATIVE, write(lambda: numpy.empty(big, dtype=numpy.float32, order="F")))],
          # write bandwidth at least 0.9x the private copy: time at most 1/0.9
          [("ipc.SharedArray", "private numpy array", 1 / 0.9)])


def where(h):
    return "the two processes pinned to two CPUs" if h.pinned else "processes not pinned"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few short repetitions: a smoke run")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of the table")
    parser.add_argument("--reps", type=int, default=21, help="repetitions (default 21)")
    parser.add_argument("--block-ms", type=float, default=20, help="milliseconds per block (default 20)")
    parser.add_argument("--filter", help="only cases whose name contains TEXT")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the processes to CPUs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    h = Harness(args)
    for cases in (shm_cases, semaphore_cases, message_cases, array_cases):
        cases(h)
    return 1 if args.strict and h.missed else 0


if __name__ == "__main__":
    sys.exit(main())
