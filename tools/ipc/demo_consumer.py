#!/usr/bin/python3
"""The demo's analysis process: attaches to the camera's frames by address,
reads each one zero-copy as a numpy array, checks it, and shows progress.

Usage: demo_consumer.py CONTROL_ADDRESS FRAMES_ADDRESS
(started by `ipc demo`, which runs the producer in C).
"""

import sys
import time

import ipc

# The control block's layout, as tools/ipc/demo.h fixes it.
SEM_READY, SEM_FREE, FRAME, STAMP, DONE = 0, 64, 128, 136, 144


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main(control_address, frames_address):
    live = sys.stderr.isatty()
    with ipc.SharedMemory.open(control_address) as control:
        ready = ipc.Semaphore.attach(control, SEM_READY)
        free = ipc.Semaphore.attach(control, SEM_FREE)
        frames = ipc.SharedArray.open(frames_address, readonly=True)
        words = control.buf.cast("q")  # the int64 fields
        height, width = frames.shape[1], frames.shape[0]
        print(f"consumer: attached to {frames_address}: {width}x{height} {frames.dtype}, "
              f"zero-copy (numpy shares the mapping: {not frames.flags.owndata})", flush=True)

        latencies, bad, expected = [], 0, 1
        started = last_shown = time.monotonic()
        while True:
            try:
                ready.wait(timeout=5.0)
            except TimeoutError:
                print("\nconsumer: the producer stopped answering", file=sys.stderr)
                return 1
            woke = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            number = words[FRAME // 8]
            if number < expected:  # no new frame: the producer has stopped
                break
            latencies.append((woke - words[STAMP // 8]) / 1000.0)
            # The frame is checked where it lies: no copy is made.
            if number != expected or not (frames == number).all():
                bad += 1
            expected = number + 1
            free.post()
            if words[DONE // 8]:
                break
            now = time.monotonic()
            if now - last_shown >= (0.1 if live else 1.0):
                last_shown = now
                recent = sorted(latencies[-2000:])
                line = (f"frames {len(latencies):7d} | {len(latencies) / (now - started):7.0f} fps | "
                        f"wake-up latency p50 {percentile(recent, 0.5):7.1f} us  "
                        f"p99 {percentile(recent, 0.99):7.1f} us | bad {bad}")
                print("\r" + line if live else line, end="" if live else "\n", file=sys.stderr, flush=True)

        elapsed = time.monotonic() - started
        ordered = sorted(latencies)
        print(("\n" if live else "") + f"consumer: {len(latencies)} frames of {frames.nbytes / 2**20:.1f} MiB in "
              f"{elapsed:.1f} s ({len(latencies) / elapsed:.0f} fps, {len(latencies) * frames.nbytes / elapsed / 2**30:.2f} GiB/s"
              f" checked in place, no copy); wake-up latency p50 {percentile(ordered, 0.5):.1f} us, "
              f"p99 {percentile(ordered, 0.99):.1f} us, max {ordered[-1] if ordered else 0:.1f} us; "
              f"{bad} bad frames", flush=True)
        del frames
        ready.close()
        free.close()
    return 1 if bad or not latencies else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except KeyboardInterrupt:
        print("\nconsumer: interrupted", file=sys.stderr)
        sys.exit(130)
