// Locks: uncontended mutex lock/unlock pairs and read-lock/unlock pairs, and
// a two-process ping-pong through a mutex and a condition variable in shared
// memory; libipc against raw process-shared pthread objects (what a user
// would write: a robust mutex of the default type) and Boost.Interprocess.
// libipc's mutex is robust and error-checking: a raw mutex with the same
// attributes is shown as a reference, so the cost of the attributes and the
// cost of the wrapper can be told apart. The ping-pong also runs libipc with
// its optional spin on the mutex and the condition (Boost and pthread have
// none): each process then waits for the other in user space.
// Run: build/tools/bench/bench_sync [--quick] [--json] (see harness.hpp).
#include "harness.hpp"

#include <ipc.h>

#include <cerrno>
#include <memory>
#include <pthread.h>

#if BENCH_HAVE_BOOST
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/interprocess_sharable_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#endif

namespace {

// Where the objects live in the shared page.
constexpr size_t room = 256, mutex_at = 0, cond_at = room, turn_at = 2 * room;

// libipc's optional spin on the mutex and the condition, as in bench_sem.
constexpr int64_t spin_ns = 50'000;

[[noreturn]] void die(const char *what, const char *why) {
    std::fprintf(stderr, "bench_sync: %s: %s\n", what, why);
    std::exit(1);
}

void check(int rc, const char *what) {
    if (rc < 0)
        die(what, ipc_last_error());
}

void check_pthread(int rc, const char *what) {
    if (rc != 0)
        die(what, std::strerror(rc));
}

// The operations under test, whoever implements them. In the ping-pong, a
// turn in shared memory (guarded by the mutex) says who may go: 1 the peer,
// 0 the parent.
struct Sync : bench::RoundTrip {
    int *turn = nullptr;
    virtual void lock() = 0;
    virtual void unlock() = 0;
    virtual void wait() {}   // on the condition, with the mutex held
    virtual void signal() {} // the condition
    void ping() override {
        lock();
        *turn = 1;
        signal();
        while (*turn != 0)
            wait();
        unlock();
    }
    void pong() override {
        lock();
        while (*turn != 1)
            wait();
        *turn = 0;
        signal();
        unlock();
    }
};

// Makes the objects at the start of `page` (created or attached).
using Open = std::function<std::unique_ptr<Sync>(char *page, bool creator)>;

struct Libipc : Sync {
    ipc_mutex *m = nullptr;
    ipc_cond *c = nullptr;
    Libipc(char *page, bool creator, int64_t spin = 0) {
        turn = reinterpret_cast<int *>(page + turn_at);
        check(creator ? ipc_mutex_init(&m, page + mutex_at, room, 0) : ipc_mutex_attach(&m, page + mutex_at, room),
              "mutex");
        check(creator ? ipc_cond_init(&c, page + cond_at, room, 0) : ipc_cond_attach(&c, page + cond_at, room),
              "condition");
        check(ipc_mutex_set_spin(m, spin), "mutex spin");
        check(ipc_cond_set_spin(c, spin), "condition spin");
    }
    ~Libipc() override {
        ipc_cond_close(c);
        ipc_mutex_close(m);
    }
    void lock() override { ipc_mutex_lock(m); }
    void unlock() override { ipc_mutex_unlock(m); }
    void wait() override { ipc_cond_wait(c, m); }
    void signal() override { ipc_cond_signal(c); }
};

// Raw pthread objects, process-shared, the mutex robust of `type`.
struct Raw : Sync {
    pthread_mutex_t *m;
    pthread_cond_t *c;
    bool creator;
    Raw(char *page, bool made_here, int type) : creator(made_here) {
        turn = reinterpret_cast<int *>(page + turn_at);
        m = reinterpret_cast<pthread_mutex_t *>(page + mutex_at);
        c = reinterpret_cast<pthread_cond_t *>(page + cond_at);
        if (!creator)
            return;
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
        pthread_mutexattr_settype(&ma, type);
        check_pthread(pthread_mutex_init(m, &ma), "pthread_mutex_init");
        pthread_mutexattr_destroy(&ma);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        check_pthread(pthread_cond_init(c, &ca), "pthread_cond_init");
        pthread_condattr_destroy(&ca);
    }
    ~Raw() override {
        if (creator) {
            pthread_cond_destroy(c);
            pthread_mutex_destroy(m);
        }
    }
    void lock() override { pthread_mutex_lock(m); }
    void unlock() override { pthread_mutex_unlock(m); }
    void wait() override { pthread_cond_wait(c, m); }
    void signal() override { pthread_cond_signal(c); }
};

#if BENCH_HAVE_BOOST
struct Boost : Sync {
    using Mutex = boost::interprocess::interprocess_mutex;
    using Condition = boost::interprocess::interprocess_condition;
    Mutex *m;
    Condition *c;
    Boost(char *page, bool creator) {
        turn = reinterpret_cast<int *>(page + turn_at);
        m = creator ? new (page + mutex_at) Mutex : reinterpret_cast<Mutex *>(page + mutex_at);
        c = creator ? new (page + cond_at) Condition : reinterpret_cast<Condition *>(page + cond_at);
    }
    void lock() override { m->lock(); }
    void unlock() override { m->unlock(); }
    void wait() override {
        // The mutex is held already: the lock object only lends it to wait().
        boost::interprocess::scoped_lock<Mutex> held(*m, boost::interprocess::accept_ownership);
        c->wait(held);
        held.release();
    }
    void signal() override { c->notify_one(); }
};
#endif

// The shared page of one uncontended block, for objects that need one.
struct Page {
    void *mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    Page() {
        if (mem == MAP_FAILED)
            die("mmap", std::strerror(errno));
    }
    ~Page() { munmap(mem, 4096); }
    char *data() const { return static_cast<char *>(mem); }
};

// Uncontended lock/unlock pairs of a Sync's mutex, made as for the ping-pong.
bench::Contender uncontended(std::string name, bench::Kind kind, Open open) {
    return {std::move(name), kind, [open = std::move(open)](int64_t n) {
                Page page;
                auto sync = open(page.data(), true);
                return bench::loop_ns(n, [&](int64_t) {
                    sync->lock();
                    sync->unlock();
                });
            }};
}

// A read/write lock in a page, read-locked and unlocked: libipc's, raw or Boost's.
struct LibipcRead {
    ipc_rwlock *rw = nullptr;
    explicit LibipcRead(char *page) { check(ipc_rwlock_init(&rw, page, room, 0), "rwlock"); }
    ~LibipcRead() { ipc_rwlock_close(rw); }
    void operator()() {
        ipc_rwlock_rdlock(rw);
        ipc_rwlock_unlock(rw);
    }
};

struct RawRead {
    pthread_rwlock_t *rw;
    explicit RawRead(char *page) : rw(reinterpret_cast<pthread_rwlock_t *>(page)) {
        pthread_rwlockattr_t a;
        pthread_rwlockattr_init(&a);
        pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        check_pthread(pthread_rwlock_init(rw, &a), "pthread_rwlock_init");
        pthread_rwlockattr_destroy(&a);
    }
    ~RawRead() { pthread_rwlock_destroy(rw); }
    void operator()() {
        pthread_rwlock_rdlock(rw);
        pthread_rwlock_unlock(rw);
    }
};

#if BENCH_HAVE_BOOST
struct BoostRead {
    using Lock = boost::interprocess::interprocess_sharable_mutex;
    Lock *rw;
    explicit BoostRead(char *page) : rw(new (page) Lock) {}
    void operator()() {
        rw->lock_sharable();
        rw->unlock_sharable();
    }
};
#endif

template <class Pair> bench::Contender read_pairs(std::string name, bench::Kind kind) {
    return {std::move(name), kind, [](int64_t n) {
                Page page;
                Pair pair(page.data());
                return bench::loop_ns(n, [&](int64_t) { pair(); });
            }};
}

} // namespace

int main(int argc, char **argv) {
    bench::Harness h("sync", argc, argv);
    using bench::Kind;
    const bool pinned = h.options().pin && bench::pin(0);
    const std::string where = pinned ? "the two processes pinned to two CPUs" : "processes not pinned";
    if (ipc_mutex_size() > room || ipc_cond_size() > room || ipc_rwlock_size() > room)
        die("layout", "a libipc lock needs more room than this benchmark gives it");

    const Open libipc = [](char *p, bool c) { return std::make_unique<Libipc>(p, c); };
    const Open libipc_spin = [](char *p, bool c) { return std::make_unique<Libipc>(p, c, spin_ns); };
    const Open raw = [](char *p, bool c) { return std::make_unique<Raw>(p, c, PTHREAD_MUTEX_DEFAULT); };
    const Open raw_checking = [](char *p, bool c) { return std::make_unique<Raw>(p, c, PTHREAD_MUTEX_ERRORCHECK); };
#if BENCH_HAVE_BOOST
    const Open boost = [](char *p, bool c) { return std::make_unique<Boost>(p, c); };
#endif
    const std::string raw_name = "raw pthread robust mutex";
    const std::string checking_name = "raw pthread robust error-checking mutex";

    h.note("one process, nobody else wants the lock: the calls' own cost");
    h.run("mutex lock + unlock, uncontended",
          {
              uncontended("libipc", Kind::ours, libipc),
              uncontended(raw_name, Kind::alternative, raw),
#if BENCH_HAVE_BOOST
              uncontended("Boost.Interprocess mutex", Kind::alternative, boost),
#endif
              uncontended(checking_name + " (as libipc's)", Kind::reference, raw_checking),
          },
          {{"libipc", raw_name, 1.05}});

    h.note("round trip = lock, hand the turn over, signal, wait for the turn back; " + where);
    h.run("mutex + condition ping-pong between 2 processes",
          {
              bench::round_trip("libipc", Kind::ours, pinned, libipc),
              bench::round_trip("libipc, spin 50 us", Kind::ours, pinned, libipc_spin),
              bench::round_trip(raw_name, Kind::alternative, pinned, raw),
#if BENCH_HAVE_BOOST
              bench::round_trip("Boost.Interprocess mutex + condition", Kind::alternative, pinned, boost),
#endif
              bench::round_trip(checking_name + " (as libipc's)", Kind::reference, pinned, raw_checking),
          },
          {{"libipc", raw_name, 1.05}
#if BENCH_HAVE_BOOST
           ,
           {"libipc", "Boost.Interprocess mutex + condition", 1.0},
           {"libipc, spin 50 us", "Boost.Interprocess mutex + condition", 1.0}
#endif
          });

    h.note("one process, no writer: the calls' own cost");
    h.run("read/write lock: read lock + unlock, uncontended",
          {
              read_pairs<LibipcRead>("libipc", Kind::ours),
              read_pairs<RawRead>("raw pthread_rwlock", Kind::alternative),
#if BENCH_HAVE_BOOST
              read_pairs<BoostRead>("Boost.Interprocess sharable mutex", Kind::alternative),
#endif
          },
          {{"libipc", "raw pthread_rwlock", 1.05}});
    return h.finish();
}
