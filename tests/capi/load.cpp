// Load tests: 8 processes, each doing many operations on one primitive;
// final counts must be exact and every message arrive exactly once. The
// number of operations per process is 100,000, or IPC_LOAD_OPS when set
// (tests/meson.build lowers it under the sanitizers). Tagged [load].
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr int processes = 8;

int64_t ops() {
    const char *env = std::getenv("IPC_LOAD_OPS");
    return env ? std::atoll(env) : 100000;
}

// Counters shared with the workers. Plain (non-atomic) fields on purpose:
// only the lock under test keeps their updates from being lost.
struct Counters {
    volatile int64_t a, b;
    std::atomic<int64_t> torn;
};

struct SharedCounters {
    Counters *c;
    SharedCounters() {
        void *m = mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        REQUIRE(m != MAP_FAILED);
        c = new (m) Counters{0, 0, {0}};
    }
    ~SharedCounters() { munmap(c, sizeof(Counters)); }
};

// Starts `processes` workers running body(k) and requires all to exit 0.
void run_workers(const std::function<int(int)> &body) {
    std::vector<pid_t> pids;
    for (int k = 0; k < processes; ++k)
        pids.push_back(test::spawn([&, k] { return body(k); }));
    for (pid_t pid : pids)
        CHECK(test::exit_code(test::wait_for(pid)) == 0);
}

} // namespace

// 8 workers each open the named lock and increment a plain shared counter
// N times under it; returns the final count.
template <class T>
int64_t count_under(const std::string &name, int (*open)(T **, const char *), int (*lock)(T *), int (*unlock)(T *),
                    int (*close)(T *), int64_t n) {
    SharedCounters shared;
    Counters *c = shared.c;
    run_workers([&](int) {
        T *mine = nullptr;
        if (open(&mine, name.c_str()) != 0)
            return 1;
        for (int64_t i = 0; i < n; ++i) {
            if (lock(mine) != 0)
                return 2;
            c->a = c->a + 1;
            if (unlock(mine) != 0)
                return 3;
        }
        return close(mine);
    });
    return c->a;
}

// 8 processes each take and give back a named semaphore of value 1 N times,
// incrementing a plain shared counter inside: it must end at exactly 8 N.
TEST_CASE("load: 8 processes use a named semaphore as a lock", "[load][sem]") {
    const int64_t n = ops();
    std::string name = test::unique_name("load-sem");
    ipc_sem *s = nullptr;
    REQUIRE(ipc_sem_create(&s, name.c_str(), 1, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(count_under(name, ipc_sem_open, ipc_sem_wait, ipc_sem_post, ipc_sem_close, n) == processes * n);
    CHECK(ipc_sem_value(s) == 1);
    CHECK(ipc_sem_close(s) == 0);
}

// 8 processes each lock a named mutex N times and increment a plain shared
// counter inside: it must end at exactly 8 N.
TEST_CASE("load: 8 processes increment a counter under a named mutex", "[load][mutex]") {
    const int64_t n = ops();
    std::string name = test::unique_name("load-mutex");
    ipc_mutex *m = nullptr;
    REQUIRE(ipc_mutex_create(&m, name.c_str(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(count_under(name, ipc_mutex_open, ipc_mutex_lock, ipc_mutex_unlock, ipc_mutex_close, n) == processes * n);
    CHECK(ipc_mutex_trylock(m) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
    CHECK(ipc_mutex_close(m) == 0);
}

// 8 processes each take a named read/write lock N times, one time in four to
// write (two counters, one after the other), otherwise to read (the counters
// must be equal): exact write count, no torn read.
TEST_CASE("load: 8 processes read and write under a named read/write lock", "[load][rwlock]") {
    const int64_t n = ops();
    std::string name = test::unique_name("load-rwlock");
    ipc_rwlock *rw = nullptr;
    REQUIRE(ipc_rwlock_create(&rw, name.c_str(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    SharedCounters shared;
    Counters *c = shared.c;
    // One operation in four writes (a, then b); readers check a == b, which
    // a reader overlapping a writer would see broken.
    run_workers([&](int k) {
        ipc_rwlock *mine = nullptr;
        if (ipc_rwlock_open(&mine, name.c_str()) != 0)
            return 1;
        for (int64_t i = 0; i < n; ++i) {
            if ((i + k) % 4 == 0) {
                if (ipc_rwlock_wrlock(mine) != 0)
                    return 2;
                c->a = c->a + 1;
                c->b = c->b + 1;
            } else {
                if (ipc_rwlock_rdlock(mine) != 0)
                    return 3;
                if (c->a != c->b)
                    ++c->torn;
            }
            if (ipc_rwlock_unlock(mine) != 0)
                return 4;
        }
        return ipc_rwlock_close(mine);
    });
    int64_t writes = 0;
    for (int k = 0; k < processes; ++k)
        for (int64_t i = 0; i < n; ++i)
            writes += (i + k) % 4 == 0;
    CHECK(c->a == writes);
    CHECK(c->b == writes);
    CHECK(c->torn == 0);
    CHECK(ipc_rwlock_trywrlock(rw) == 0);
    CHECK(ipc_rwlock_unlock(rw) == 0);
    CHECK(ipc_rwlock_close(rw) == 0);
}

// 4 processes each send N messages (sender, sequence) to one message queue
// of capacity 10 while 4 others each receive N: every message is received
// exactly once, and each receiver sees each sender's messages in order.
TEST_CASE("load: 4 processes send and 4 receive through a message queue, each message once", "[load][mq]") {
    const int64_t n = ops();
    const int senders = processes / 2;
    std::string name = test::unique_name("load-mq");
    ipc_mq *q = nullptr;
    REQUIRE(ipc_mq_create(&q, name.c_str(), 10, sizeof(int64_t), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    // One receive count per message, shared with the workers.
    const size_t total = static_cast<size_t>(senders * n), bytes = total * sizeof(std::atomic<uint8_t>);
    void *m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    auto *seen = static_cast<std::atomic<uint8_t> *>(m);
    run_workers([&](int k) {
        ipc_mq *mine = nullptr;
        bool sender = k < senders;
        if (ipc_mq_open(&mine, name.c_str(), sender ? IPC_WRONLY : IPC_RDONLY) != 0)
            return 1;
        std::vector<int64_t> last(static_cast<size_t>(senders), -1);
        for (int64_t i = 0; i < n; ++i) {
            int64_t message = int64_t(k) * n + i;
            if (sender) {
                if (ipc_mq_send(mine, &message, sizeof message, 0) != 0)
                    return 2;
                continue;
            }
            if (ipc_mq_receive(mine, &message, sizeof message, nullptr) != sizeof message)
                return 3;
            if (message < 0 || message >= static_cast<int64_t>(total))
                return 4;
            ++seen[message];
            auto from = static_cast<size_t>(message / n);
            if (message % n <= last[from])
                return 5; // out of order
            last[from] = message % n;
        }
        return ipc_mq_close(mine);
    });
    size_t once = 0;
    for (size_t i = 0; i < total; ++i)
        once += seen[i] == 1;
    CHECK(once == total);
    CHECK(ipc_mq_count(q) == 0);
    munmap(m, bytes);
    CHECK(ipc_mq_close(q) == 0);
}

// 8 processes each queue N real-time signals with a value (sender, sequence)
// to the parent, retrying on EAGAIN; the parent takes them with
// ipc_sig_timedwait(): each exactly once, from the right pid, in order.
TEST_CASE("load: 8 processes queue real-time signals, each received exactly once and in order",
          "[load][sig]") {
    const int64_t n = ops();
    const int signo = ipc_sig_rtmin() + 2;
    ipc_sigset *set = nullptr, *old = nullptr;
    REQUIRE(ipc_sigset_new(&set) == 0);
    REQUIRE(ipc_sigset_new(&old) == 0);
    REQUIRE(ipc_sigset_add(set, signo) == 0);
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, set, old) == 0); // before the fork: no early delivery
    const int me = getpid();
    std::vector<pid_t> pids;
    for (int k = 0; k < processes; ++k)
        pids.push_back(test::spawn([&, k] {
            for (int64_t i = 0; i < n; ++i) {
                int rc;
                // The queue of pending signals is bounded: wait for room.
                while ((rc = ipc_sig_queue(me, signo, int64_t(k) << 32 | i)) == -EAGAIN)
                    sched_yield();
                if (rc != 0)
                    return 1;
            }
            return 0;
        }));
    std::vector<int64_t> next(processes, 0); // the sequence number expected from each sender
    int64_t received = 0, out_of_order = 0, foreign = 0;
    ipc_siginfo info;
    while (received < processes * n) {
        int rc = ipc_sig_timedwait(set, 30, &info);
        if (rc != signo) {
            FAIL("ipc_sig_timedwait returned " << rc << " after " << received << " signals: " << ipc_last_error());
        }
        auto k = static_cast<size_t>(info.value >> 32);
        int64_t i = info.value & 0xffffffff;
        if (k >= static_cast<size_t>(processes) || info.pid != pids[k]) {
            ++foreign;
            continue;
        }
        if (i != next[k])
            ++out_of_order;
        next[k] = i + 1;
        ++received;
    }
    for (pid_t pid : pids)
        CHECK(test::exit_code(test::wait_for(pid)) == 0);
    CHECK(received == processes * n);
    CHECK(out_of_order == 0);
    CHECK(foreign == 0);
    for (int k = 0; k < processes; ++k)
        CHECK(next[static_cast<size_t>(k)] == n);
    CHECK(ipc_sig_trywait(set, &info) == -EAGAIN); // nothing more
    CHECK(ipc_sig_mask(IPC_SIG_SETMASK, old, nullptr) == 0);
    CHECK(ipc_sigset_free(set) == 0);
    CHECK(ipc_sigset_free(old) == 0);
}
