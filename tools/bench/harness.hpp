// The benchmark harness of libipc: compares libipc with the alternatives a
// user would pick, in the same run, in alternating repetitions, so the
// ratios mean something on a noisy machine.
//
// Adding an area: write tools/bench/<area>.cpp (tools/bench/meson.build
// builds it as bench_<area> once lib/<area>.cpp exists) along these lines:
//
//     #include "harness.hpp"
//     int main(int argc, char **argv) {
//         bench::Harness h("mq", argc, argv);      // parses the flags below
//         h.run("send and receive 64 bytes", {
//             {"libipc", bench::Kind::ours, [](int64_t n) { ...n operations...; return elapsed_ns; }},
//             {"raw mq_send", bench::Kind::alternative, ...},
//             {"floor: memcpy", bench::Kind::reference, ...},
//         }, {{"libipc", "raw mq_send", 1.05}});   // target: libipc <= 1.05x raw
//         return h.finish();
//     }
//
// Two-process cases: derive from bench::RoundTrip (ping in the parent, pong
// in the forked peer) and make contenders with bench::round_trip(); one-process
// loops time themselves with bench::loop_ns(). The Python binding's cases live
// in tools/bench/python.py, which follows the same method and JSON format.
//
// A contender is a function that performs `n` operations and returns the
// nanoseconds those n took, excluding its own set-up (forking a peer,
// creating objects): time only the loop. The harness first calibrates n per
// contender so that one block lasts about --block-ms, then runs --reps
// repetitions; in each, every contender runs one block, in an order rotated
// from one repetition to the next. It reports per contender the median time
// per operation, the spread (25th to 75th percentile, in % of the median) and
// the ratio to the best alternative (the fastest Kind::alternative), then
// each target: the ratio of two contenders' medians against its bound.
// Kind::reference rows (floors, hand-written loops) are shown for scale and
// never count as the best alternative.
//
// Flags: --quick (few short repetitions: a smoke run), --json (one JSON
// object per line instead of the table), --reps N, --block-ms X,
// --filter TEXT (only cases whose name contains TEXT), --no-pin (let the
// area's code skip CPU pinning; see pin_self()), --strict (exit 1 when a
// target is missed; by default targets are reported, never enforced).
//
// On a loaded machine, processes that spin (floors, spin-then-sleep waits)
// measure the scheduler, not the code: run as root under `chrt -f 10` so other
// jobs cannot preempt the two pinned processes, and say so with the figures.
//
// Benchmarks never run in the test suite. `ninja -C build bench` runs them all.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace bench {

enum class Kind {
    ours,        // libipc
    alternative, // what a user would use instead; the ratios are against the best of these
    reference,   // shown for scale only: floors, hand-written loops
};

struct Contender {
    std::string name;
    Kind kind;
    std::function<double(int64_t n)> run; // n operations; returns their nanoseconds
};

// `contender`'s median divided by `reference`'s should be at most `max_ratio`.
struct Target {
    std::string contender;
    std::string reference;
    double max_ratio;
};

struct Options {
    bool quick = false;
    bool json = false;
    bool pin = true;
    bool strict = false;
    int reps = 21;
    double block_ms = 20;
    std::string filter;
};

// Nanoseconds of CLOCK_MONOTONIC.
inline int64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// Nanoseconds of n calls of `op` in this process: the body of a contender
// whose set-up is done.
template <class Op> double loop_ns(int64_t n, Op &&op) {
    int64_t start = now_ns();
    for (int64_t i = 0; i < n; ++i)
        op(i);
    return static_cast<double>(now_ns() - start);
}

// Pins process `pid` (0: the caller) to the index-th CPU the caller could run
// on at its first call, modulo their number. False when it cannot, or when there is one CPU
// only. Pin a forked peer from the parent, right after the fork: a peer left
// to pin itself may never run if the parent spins on its CPU (under a
// real-time policy, say).
inline bool pin(int index, pid_t pid = 0) {
    // The CPUs allowed at the first call, before any pinning narrowed them.
    static const cpu_set_t allowed = [] {
        cpu_set_t set;
        CPU_ZERO(&set);
        sched_getaffinity(0, sizeof set, &set);
        return set;
    }();
    if (CPU_COUNT(&allowed) < 2)
        return false;
    int wanted = index % CPU_COUNT(&allowed);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &allowed) && wanted-- == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            return sched_setaffinity(pid, sizeof one, &one) == 0;
        }
    }
    return false;
}

// Two processes passing a turn back and forth through the objects under
// test. The parent's end is made before the fork (as the creator), the
// peer's right after it, in the peer.
struct RoundTrip {
    virtual ~RoundTrip() = default;
    virtual void started(pid_t peer) { (void)peer; } // in the parent, once the peer exists
    virtual void ping() = 0;                          // parent: pass the turn, wait for it back
    virtual void pong() = 0;                          // peer: wait for the turn, pass it back
};

// Makes one process's end; `page` is a zeroed 4096-byte MAP_SHARED page that
// both processes see at the same address.
using OpenRoundTrip = std::function<std::unique_ptr<RoundTrip>(char *page, bool creator)>;

// Nanoseconds of n round trips between this process and a forked peer
// (pinned to the second CPU when `pinned`), after a warm-up; the fork and the
// set-up are not timed. Exits the program when the peer fails.
inline double round_trips(int64_t n, bool pinned, const OpenRoundTrip &open) {
    constexpr size_t page_size = 4096;
    void *mem = mmap(nullptr, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        std::perror("mmap");
        std::exit(1);
    }
    char *page = static_cast<char *>(mem);
    const int64_t warmup = std::min<int64_t>(200, n); // bounded: a slow contender's block is small
    double elapsed = 0;
    {
        auto mine = open(page, true);
        std::fflush(nullptr);
        pid_t peer = fork();
        if (peer == 0) {
            auto theirs = open(page, false);
            for (int64_t i = 0; i < warmup + n; ++i)
                theirs->pong();
            theirs.reset();
            _exit(0);
        }
        if (peer < 0) {
            std::perror("fork");
            std::exit(1);
        }
        if (pinned)
            pin(1, peer);
        mine->started(peer);
        for (int64_t i = 0; i < warmup; ++i)
            mine->ping();
        int64_t start = now_ns();
        for (int64_t i = 0; i < n; ++i)
            mine->ping();
        elapsed = static_cast<double>(now_ns() - start);
        int status = 0;
        waitpid(peer, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "the peer process failed\n");
            std::exit(1);
        }
    }
    munmap(mem, page_size);
    return elapsed;
}

// A contender timing round_trips() through the objects `open` makes.
inline Contender round_trip(std::string name, Kind kind, bool pinned, OpenRoundTrip open) {
    return {std::move(name), kind,
            [pinned, open = std::move(open)](int64_t n) { return round_trips(n, pinned, open); }};
}

class Harness {
  public:
    Harness(std::string area, int argc, char **argv) : area_(std::move(area)) {
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            auto value = [&]() -> const char * {
                if (i + 1 >= argc)
                    usage(argv[0], 2);
                return argv[++i];
            };
            if (arg == "--quick") {
                opt_.quick = true;
                opt_.reps = 5;
                opt_.block_ms = 3;
            } else if (arg == "--json") {
                opt_.json = true;
            } else if (arg == "--no-pin") {
                opt_.pin = false;
            } else if (arg == "--strict") {
                opt_.strict = true;
            } else if (arg == "--reps") {
                opt_.reps = std::max(1, std::atoi(value()));
            } else if (arg == "--block-ms") {
                opt_.block_ms = std::max(0.1, std::atof(value()));
            } else if (arg == "--filter") {
                opt_.filter = value();
            } else {
                usage(argv[0], arg == "--help" || arg == "-h" ? 0 : 2);
            }
        }
    }

    const Options &options() const { return opt_; }

    // Whether a case of this name runs (see --filter).
    bool selected(const std::string &name) const {
        return opt_.filter.empty() || name.find(opt_.filter) != std::string::npos;
    }

    // A note printed under the next case's title (in JSON: a "note" field).
    void note(std::string text) { note_ = std::move(text); }

    void run(const std::string &name, const std::vector<Contender> &contenders,
             const std::vector<Target> &targets = {}) {
        if (!selected(name) || contenders.empty())
            return;
        const double block_ns = opt_.block_ms * 1e6;
        std::vector<int64_t> n(contenders.size());
        for (size_t c = 0; c < contenders.size(); ++c)
            n[c] = calibrate(contenders[c], block_ns);
        std::vector<std::vector<double>> samples(contenders.size());
        for (int r = 0; r < opt_.reps; ++r)
            for (size_t k = 0; k < contenders.size(); ++k) {
                size_t c = (k + static_cast<size_t>(r)) % contenders.size(); // rotate the order
                samples[c].push_back(contenders[c].run(n[c]) / static_cast<double>(n[c]));
            }

        std::vector<Row> rows;
        for (size_t c = 0; c < contenders.size(); ++c)
            rows.push_back(summarise(contenders[c], n[c], samples[c]));
        const Row *best = nullptr;
        for (const Row &row : rows)
            if (row.kind == Kind::alternative && (!best || row.median < best->median))
                best = &row;
        report(name, rows, best, targets);
        note_.clear();
    }

    // The exit status: 0, or 1 under --strict when a target was missed.
    int finish() const { return opt_.strict && missed_ ? 1 : 0; }

  private:
    struct Row {
        std::string name;
        Kind kind;
        int64_t n;
        double median, p25, p75;
    };

    [[noreturn]] static void usage(const char *argv0, int status) {
        std::fprintf(status ? stderr : stdout,
                     "usage: %s [--quick] [--json] [--reps N] [--block-ms X] [--filter TEXT] [--no-pin] "
                     "[--strict]\n",
                     argv0);
        std::exit(status);
    }

    // Doubles n until a block takes a quarter of the wanted time, then
    // scales it; the first runs also warm the contender up.
    static int64_t calibrate(const Contender &c, double block_ns) {
        int64_t n = 1;
        for (;;) {
            double took = c.run(n);
            if (took >= block_ns / 4 || n >= (int64_t(1) << 40))
                return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * block_ns /
                                                                 std::max(took, 1.0)));
            n *= 2;
        }
    }

    static double quantile(std::vector<double> v, double q) {
        std::sort(v.begin(), v.end());
        double pos = q * static_cast<double>(v.size() - 1);
        size_t lo = static_cast<size_t>(std::floor(pos)), hi = static_cast<size_t>(std::ceil(pos));
        return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
    }

    static Row summarise(const Contender &c, int64_t n, const std::vector<double> &s) {
        return {c.name, c.kind, n, quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.75)};
    }

    static std::string duration(double ns) {
        char buf[32];
        if (ns < 1e3)
            std::snprintf(buf, sizeof buf, "%.1f ns", ns);
        else if (ns < 1e6)
            std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
        else
            std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
        return buf;
    }

    static const char *kind_name(Kind k) {
        return k == Kind::ours ? "ours" : k == Kind::alternative ? "alternative" : "reference";
    }

    static std::string json_string(const std::string &s) {
        std::string out = "\"";
        for (char ch : s) {
            if (ch == '"' || ch == '\\')
                out += '\\';
            out += ch;
        }
        return out + '"';
    }

    const Row *find(const std::vector<Row> &rows, const std::string &name) const {
        for (const Row &row : rows)
            if (row.name == name)
                return &row;
        return nullptr;
    }

    void report(const std::string &name, const std::vector<Row> &rows, const Row *best,
                const std::vector<Target> &targets) {
        if (!opt_.json) {
            std::printf("\n%s: %s  (%d repetitions, medians per operation)\n", area_.c_str(), name.c_str(),
                        opt_.reps);
            if (!note_.empty())
                std::printf("  %s\n", note_.c_str());
            std::printf("  %-40s %12s %8s %10s\n", "contender", "median", "spread",
                        best ? ("x " + best->name.substr(0, 14)).c_str() : "ratio");
        }
        for (const Row &row : rows) {
            double ratio = best ? row.median / best->median : NAN;
            double spread = 100.0 * (row.p75 - row.p25) / row.median;
            if (opt_.json) {
                std::printf("{\"area\":%s,\"case\":%s,\"contender\":%s,\"kind\":\"%s\",\"median_ns\":%.3f,"
                            "\"p25_ns\":%.3f,\"p75_ns\":%.3f,\"ops_per_block\":%lld,\"reps\":%d,"
                            "\"best_alternative\":%s,\"ratio\":%s%s}\n",
                            json_string(area_).c_str(), json_string(name).c_str(), json_string(row.name).c_str(),
                            kind_name(row.kind), row.median, row.p25, row.p75, static_cast<long long>(row.n),
                            opt_.reps, best ? json_string(best->name).c_str() : "null",
                            best ? std::to_string(ratio).c_str() : "null",
                            note_.empty() ? "" : (",\"note\":" + json_string(note_)).c_str());
            } else {
                char ratio_text[32] = "-";
                if (best)
                    std::snprintf(ratio_text, sizeof ratio_text, "%.3gx", ratio);
                std::printf("  %-40s %12s %7.0f%% %10s%s\n", row.name.c_str(), duration(row.median).c_str(),
                            spread, ratio_text, row.kind == Kind::reference ? "  (reference)" : "");
            }
        }
        for (const Target &t : targets) {
            const Row *a = find(rows, t.contender), *b = find(rows, t.reference);
            if (!a || !b)
                continue;
            double ratio = a->median / b->median;
            bool met = ratio <= t.max_ratio;
            missed_ = missed_ || !met;
            if (opt_.json)
                std::printf("{\"area\":%s,\"case\":%s,\"target\":%s,\"reference\":%s,\"ratio\":%.4f,"
                            "\"max_ratio\":%.4f,\"met\":%s}\n",
                            json_string(area_).c_str(), json_string(name).c_str(), json_string(t.contender).c_str(),
                            json_string(t.reference).c_str(), ratio, t.max_ratio, met ? "true" : "false");
            else
                std::printf("  target: %s <= %.3gx %s: %.3gx, %s\n", t.contender.c_str(), t.max_ratio,
                            t.reference.c_str(), ratio, met ? "met" : "MISSED");
        }
        std::fflush(stdout);
    }

    std::string area_;
    Options opt_;
    std::string note_;
    bool missed_ = false;
};

} // namespace bench
