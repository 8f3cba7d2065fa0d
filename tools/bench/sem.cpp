// Semaphores: two-process ping-pong round trips through two semaphores,
// libipc (default, and with spin) against raw libc sem_t, Boost.Interprocess
// and the floor of two processes spinning on shared cache lines; then named
// semaphores, libipc against raw sem_open. Run: build/tools/bench/bench_sem
// [--quick] [--json] (see harness.hpp).
#include "harness.hpp"

#include <ipc.h>

#include <atomic>
#include <memory>
#include <semaphore.h>
#include <string>
#include <unistd.h>

#if BENCH_HAVE_BOOST
#include <boost/interprocess/sync/interprocess_semaphore.hpp>
#endif

namespace {

constexpr int64_t spin_ns = 50'000;

// Two one-way channels between the two processes: the parent posts 0 and
// waits on 1, the peer waits on 0 and posts 1.
struct Channel : bench::RoundTrip {
    virtual void post(int k) = 0;
    virtual void wait(int k) = 0;
    void ping() override {
        post(0);
        wait(1);
    }
    void pong() override {
        wait(0);
        post(1);
    }
};

bool pinned = false;

void check(int rc, const char *what) {
    if (rc < 0) {
        std::fprintf(stderr, "%s: %s\n", what, ipc_last_error());
        std::exit(1);
    }
}

// Two libipc handles, made by the derived constructors.
struct LibipcPair : Channel {
    ipc_sem *sem[2] = {};
    ~LibipcPair() override {
        ipc_sem_close(sem[0]);
        ipc_sem_close(sem[1]);
    }
    void post(int k) override { ipc_sem_post(sem[k]); }
    void wait(int k) override { ipc_sem_wait(sem[k]); }
};

// libipc semaphores in memory: at offsets 0 and 64 of the page.
struct Libipc : LibipcPair {
    Libipc(char *page, bool creator, int64_t spin) {
        for (int k = 0; k < 2; ++k) {
            void *at = page + 64 * k;
            check(creator ? ipc_sem_init(&sem[k], at, 64, 0) : ipc_sem_attach(&sem[k], at, 64), "sem init");
            check(ipc_sem_set_spin(sem[k], spin), "sem set spin");
        }
    }
};

// Raw libc: sem_t in the page; optionally the hand-written spin-then-sleep
// wait that libipc's spin is, as a reference for libipc's overhead.
struct RawLibc : Channel {
    sem_t *sem[2];
    int64_t spin;
    RawLibc(char *page, bool creator, int64_t spin_for) : spin(spin_for) {
        for (int k = 0; k < 2; ++k) {
            sem[k] = reinterpret_cast<sem_t *>(page + 64 * k);
            if (creator)
                sem_init(sem[k], 1, 0);
        }
    }
    void post(int k) override { sem_post(sem[k]); }
    void wait(int k) override {
        if (spin > 0) {
            int64_t end = bench::now_ns() + spin;
            do {
                for (int i = 0; i < 64; ++i)
                    if (sem_trywait(sem[k]) == 0)
                        return;
            } while (bench::now_ns() < end);
        }
        while (sem_wait(sem[k]) != 0) {
        }
    }
};

#if BENCH_HAVE_BOOST
struct Boost : Channel {
    using Semaphore = boost::interprocess::interprocess_semaphore;
    Semaphore *sem[2];
    Boost(char *page, bool creator) {
        for (int k = 0; k < 2; ++k)
            sem[k] = creator ? new (page + 64 * k) Semaphore(0) : reinterpret_cast<Semaphore *>(page + 64 * k);
    }
    void post(int k) override { sem[k]->post(); }
    void wait(int k) override { sem[k]->wait(); }
};
#endif

// The floor: a counter per direction, each on its own cache line, polled.
struct Floor : Channel {
    std::atomic<uint64_t> *line[2];
    uint64_t seen[2] = {0, 0};
    Floor(char *page, bool creator) {
        for (int k = 0; k < 2; ++k)
            line[k] = creator ? new (page + 64 * k) std::atomic<uint64_t>(0)
                              : reinterpret_cast<std::atomic<uint64_t> *>(page + 64 * k);
    }
    void post(int k) override { line[k]->fetch_add(1, std::memory_order_release); }
    void wait(int k) override {
        while (line[k]->load(std::memory_order_acquire) == seen[k])
            __builtin_ia32_pause();
        ++seen[k];
    }
};

// Named semaphores: libipc's (created by the parent, opened by the peer) or
// sem_open's. The parent unlinks the names at the end of each block.
struct Names {
    std::string name[2];
    Names(const char *tag) {
        for (int k = 0; k < 2; ++k)
            name[k] = "/ipc-bench-" + std::string(tag) + "-" + std::to_string(getpid()) + "-" + std::to_string(k);
    }
};

struct LibipcNamed : LibipcPair {
    LibipcNamed(const Names &names, bool creator, int64_t spin) {
        for (int k = 0; k < 2; ++k) {
            const char *name = names.name[k].c_str();
            check(creator ? ipc_sem_create(&sem[k], name, 0, 0600, IPC_UNLINK_ON_CLOSE) : ipc_sem_open(&sem[k], name),
                  "named sem");
            check(ipc_sem_set_spin(sem[k], spin), "sem set spin");
        }
    }
};

struct RawNamed : Channel {
    sem_t *sem[2];
    const Names &names;
    bool creator;
    RawNamed(const Names &n, bool made_here) : names(n), creator(made_here) {
        for (int k = 0; k < 2; ++k) {
            sem[k] = creator ? sem_open(names.name[k].c_str(), O_CREAT | O_EXCL, 0600, 0)
                             : sem_open(names.name[k].c_str(), 0);
            if (sem[k] == SEM_FAILED) {
                std::perror("sem_open");
                std::exit(1);
            }
        }
    }
    ~RawNamed() override {
        for (int k = 0; k < 2; ++k) {
            sem_close(sem[k]);
            if (creator)
                sem_unlink(names.name[k].c_str());
        }
    }
    void post(int k) override { sem_post(sem[k]); }
    void wait(int k) override {
        while (sem_wait(sem[k]) != 0) {
        }
    }
};

bench::Contender contender(std::string name, bench::Kind kind, bench::OpenRoundTrip open) {
    return bench::round_trip(std::move(name), kind, pinned, std::move(open));
}

} // namespace

int main(int argc, char **argv) {
    bench::Harness h("sem", argc, argv);
    using bench::Kind;
    pinned = h.options().pin && bench::pin(0);
    const std::string where = pinned ? "the two processes pinned to two CPUs" : "processes not pinned";
    const std::string spin = "spin " + std::to_string(spin_ns / 1000) + " us";

    std::vector<bench::Contender> memory = {
        contender("libipc", Kind::ours, [](char *p, bool c) { return std::make_unique<Libipc>(p, c, 0); }),
        contender("libipc " + spin, Kind::ours,
                  [](char *p, bool c) { return std::make_unique<Libipc>(p, c, spin_ns); }),
        contender("raw libc sem_t", Kind::alternative,
                  [](char *p, bool c) { return std::make_unique<RawLibc>(p, c, 0); }),
#if BENCH_HAVE_BOOST
        contender("Boost.Interprocess semaphore", Kind::alternative,
                  [](char *p, bool c) { return std::make_unique<Boost>(p, c); }),
#endif
        contender("libc sem_t, hand-written " + spin, Kind::reference,
                  [](char *p, bool c) { return std::make_unique<RawLibc>(p, c, spin_ns); }),
        contender("floor: spinning on 2 cache lines", Kind::reference,
                  [](char *p, bool c) { return std::make_unique<Floor>(p, c); }),
    };
    h.note("round trip = post + wait on each side; " + where);
    h.run("round trip through 2 semaphores in shared memory", memory,
          {{"libipc", "raw libc sem_t", 1.05}, {"libipc " + spin, "raw libc sem_t", 0.05}});

    static const Names ours("ipc"), theirs("raw");
    std::vector<bench::Contender> named = {
        contender("libipc named", Kind::ours,
                  [](char *, bool c) { return std::make_unique<LibipcNamed>(ours, c, 0); }),
        contender("libipc named " + spin, Kind::ours,
                  [](char *, bool c) { return std::make_unique<LibipcNamed>(ours, c, spin_ns); }),
        contender("raw libc sem_open", Kind::alternative,
                  [](char *, bool c) { return std::make_unique<RawNamed>(theirs, c); }),
    };
    h.note("round trip = post + wait on each side; " + where);
    h.run("round trip through 2 named semaphores", named,
          {{"libipc named", "raw libc sem_open", 1.05}, {"libipc named " + spin, "raw libc sem_open", 0.05}});
    return h.finish();
}
