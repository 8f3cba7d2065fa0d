// Process-shared locks through the public C API, across processes.
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

bool mentions(const char *text) { return std::string(ipc_last_error()).find(text) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Places in the shared page of an Arena.
constexpr size_t mutex_at = 0, cond_at = 128, cond2_at = 256, rwlock_at = 512, data_at = 2048;

// A page of POSIX shared memory for in-memory locks and counters; forked
// children inherit the mapping, or open it by name to map it elsewhere.
struct Arena {
    std::string name = test::unique_name("arena");
    ipc_shm *shm = nullptr;

    Arena() {
        REQUIRE(ipc_shm_create(&shm, name.c_str(), 4096, 0600, IPC_UNLINK_ON_CLOSE) == 0);
        for (int k = 0; k < 16; ++k)
            new (at(data_at + 64 * k)) std::atomic<int>(0);
    }
    ~Arena() {
        ipc_mutex_close(mutex_);
        ipc_cond_close(cond_);
        ipc_cond_close(cond2_);
        ipc_rwlock_close(rwlock_);
        ipc_shm_close(shm);
    }
    Arena(const Arena &) = delete;
    Arena &operator=(const Arena &) = delete;

    // Locks initialised in the page, closed with the arena.
    ipc_mutex *mutex() {
        REQUIRE(ipc_mutex_init(&mutex_, at(mutex_at), ipc_mutex_size(), 0) == 0);
        return mutex_;
    }
    ipc_cond *cond(size_t offset = cond_at) {
        ipc_cond *&c = offset == cond_at ? cond_ : cond2_;
        REQUIRE(ipc_cond_init(&c, at(offset), ipc_cond_size(), 0) == 0);
        return c;
    }
    ipc_rwlock *rwlock(uint32_t flags = 0) {
        REQUIRE(ipc_rwlock_init(&rwlock_, at(rwlock_at), ipc_rwlock_size(), flags) == 0);
        return rwlock_;
    }

    char *at(size_t offset) const { return static_cast<char *>(ipc_shm_addr(shm)) + offset; }
    // Counters and flags, each on its own cache line.
    std::atomic<int> &cell(int k) const { return *reinterpret_cast<std::atomic<int> *>(at(data_at + 64 * k)); }

  private:
    ipc_mutex *mutex_ = nullptr;
    ipc_cond *cond_ = nullptr, *cond2_ = nullptr;
    ipc_rwlock *rwlock_ = nullptr;
};

// Starts `n` children running body(i), all at once once every one exists,
// and returns their exit codes.
std::vector<int> run_children(Arena &arena, int n, const std::function<int(int)> &body) {
    std::atomic<int> &gate = arena.cell(15);
    gate.store(0);
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i)
        pids.push_back(test::spawn([&, i] {
            while (gate.load() == 0)
                std::this_thread::yield();
            return body(i);
        }));
    gate.store(1);
    std::vector<int> codes;
    for (pid_t pid : pids)
        codes.push_back(test::exit_code(test::wait_for(pid)));
    return codes;
}

// A child takes the mutex and is killed with SIGKILL while it holds it;
// returns how the child ended.
int owner_dies_holding(Arena &arena, ipc_mutex *m) {
    std::atomic<int> &held = arena.cell(14);
    held.store(0);
    pid_t pid = test::spawn([&] {
        if (ipc_mutex_lock(m) != 0)
            return 1;
        held.store(1);
        for (;;)
            pause();
    });
    REQUIRE(test::eventually([&] { return held.load() == 1; }));
    kill(pid, SIGKILL);
    return test::exit_code(test::wait_for(pid));
}

} // namespace

TEST_CASE("lock sizes cover header and object; init needs exactly that room", "[sync]") {
    Arena arena;
    ipc_mutex *m = nullptr;
    ipc_cond *c = nullptr;
    ipc_rwlock *rw = nullptr;
    for (size_t size : {ipc_mutex_size(), ipc_cond_size(), ipc_rwlock_size()}) {
        CHECK(size > 16);
        CHECK(size % IPC_SYNC_ALIGN == 0);
    }
    CHECK(ipc_mutex_init(&m, arena.at(mutex_at), ipc_mutex_size() - 1, 0) == -EINVAL);
    CHECK(m == nullptr);
    CHECK(mentions("needs"));
    CHECK(ipc_cond_init(&c, arena.at(cond_at), ipc_cond_size() - 1, 0) == -EINVAL);
    CHECK(ipc_rwlock_init(&rw, arena.at(rwlock_at), ipc_rwlock_size() - 1, 0) == -EINVAL);
    REQUIRE(ipc_mutex_init(&m, arena.at(mutex_at), ipc_mutex_size(), 0) == 0);
    REQUIRE(ipc_cond_init(&c, arena.at(cond_at), ipc_cond_size(), 0) == 0);
    REQUIRE(ipc_rwlock_init(&rw, arena.at(rwlock_at), ipc_rwlock_size(), 0) == 0);
    // An infinite timeout waits like the blocking form (here not at all).
    CHECK(ipc_mutex_timedlock(m, INFINITY) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
    CHECK(ipc_rwlock_timedwrlock(rw, INFINITY) == 0);
    CHECK(ipc_rwlock_unlock(rw) == 0);
    CHECK(ipc_rwlock_timedrdlock(rw, INFINITY) == 0);
    CHECK(ipc_rwlock_unlock(rw) == 0);
    CHECK(ipc_mutex_close(m) == 0);
    CHECK(ipc_cond_close(c) == 0);
    CHECK(ipc_rwlock_close(rw) == 0);
}

TEST_CASE("in-memory bad input gives exact codes", "[sync][errors]") {
    Arena arena;
    void *mutex_place = arena.at(mutex_at);
    ipc_mutex *m = nullptr;
    ipc_cond *c = nullptr;
    ipc_rwlock *rw = nullptr;

    SECTION("NULL out-parameter or address, misaligned memory, unknown flags: EINVAL") {
        CHECK(ipc_mutex_init(nullptr, mutex_place, 4096, 0) == -EINVAL);
        CHECK(ipc_mutex_init(&m, nullptr, 4096, 0) == -EINVAL);
        CHECK(ipc_mutex_attach(&m, nullptr, 4096) == -EINVAL);
        CHECK(ipc_mutex_init(&m, arena.at(mutex_at + 4), 4000, 0) == -EINVAL);
        CHECK(mentions("not a multiple of 8"));
        CHECK(ipc_cond_attach(&c, arena.at(cond_at + 1), 4000) == -EINVAL);
        CHECK(ipc_rwlock_init(&rw, arena.at(rwlock_at + 2), 3000, 0) == -EINVAL);
        CHECK(ipc_mutex_init(&m, mutex_place, 4096, IPC_RWLOCK_PREFER_WRITER) == -EINVAL);
        CHECK(ipc_cond_init(&c, arena.at(cond_at), 1024, 1) == -EINVAL);
        CHECK(ipc_rwlock_init(&rw, arena.at(rwlock_at), 1024, IPC_UNLINK_ON_CLOSE) == -EINVAL);
        CHECK(m == nullptr);
        CHECK(c == nullptr);
        CHECK(rw == nullptr);
    }

    SECTION("attaching to memory with no lock, or a lock of another kind: EBADMSG") {
        CHECK(ipc_mutex_attach(&m, mutex_place, 4096) == -EBADMSG);
        CHECK(mentions("no initialised lock"));
        CHECK(ipc_cond_attach(&c, arena.at(cond_at), 1024) == -EBADMSG);
        CHECK(ipc_rwlock_attach(&rw, arena.at(rwlock_at), 1024) == -EBADMSG);
        CHECK(ipc_mutex_attach(&m, mutex_place, ipc_mutex_size() - 1) == -EINVAL); // too small first
        REQUIRE(ipc_mutex_init(&m, mutex_place, 4096, 0) == 0);
        CHECK(ipc_cond_attach(&c, mutex_place, 4096) == -EBADMSG);
        CHECK(mentions("holds a mutex, not a condition variable"));
        CHECK(ipc_rwlock_attach(&rw, mutex_place, 4096) == -EBADMSG);
        ipc_mutex *again = nullptr;
        CHECK(ipc_mutex_attach(&again, mutex_place, 4096) == 0);
        CHECK(ipc_mutex_close(again) == 0);
        CHECK(ipc_mutex_close(m) == 0);
    }

    SECTION("NULL, closed and wrong-kind handles: EBADF") {
        REQUIRE(ipc_mutex_init(&m, mutex_place, 4096, 0) == 0);
        REQUIRE(ipc_cond_init(&c, arena.at(cond_at), 1024, 0) == 0);
        REQUIRE(ipc_rwlock_init(&rw, arena.at(rwlock_at), 1024, 0) == 0);
        auto *fake_mutex = reinterpret_cast<ipc_mutex *>(c);
        auto *fake_cond = reinterpret_cast<ipc_cond *>(rw);
        auto *fake_rwlock = reinterpret_cast<ipc_rwlock *>(m);
        for (ipc_mutex *bad : {static_cast<ipc_mutex *>(nullptr), fake_mutex}) {
            CHECK(ipc_mutex_lock(bad) == -EBADF);
            CHECK(ipc_mutex_trylock(bad) == -EBADF);
            CHECK(ipc_mutex_timedlock(bad, 1) == -EBADF);
            CHECK(ipc_mutex_unlock(bad) == -EBADF);
            CHECK(ipc_mutex_consistent(bad) == -EBADF);
            CHECK(ipc_mutex_set_spin(bad, 0) == -EBADF);
            CHECK(ipc_cond_wait(c, bad) == -EBADF);
            CHECK(ipc_cond_timedwait(c, bad, 1) == -EBADF);
        }
        CHECK(ipc_mutex_close(fake_mutex) == -EBADF);
        for (ipc_cond *bad : {static_cast<ipc_cond *>(nullptr), fake_cond}) {
            CHECK(ipc_cond_wait(bad, m) == -EBADF);
            CHECK(ipc_cond_timedwait(bad, m, 1) == -EBADF);
            CHECK(ipc_cond_signal(bad) == -EBADF);
            CHECK(ipc_cond_broadcast(bad) == -EBADF);
            CHECK(ipc_cond_set_spin(bad, 0) == -EBADF);
        }
        CHECK(ipc_cond_close(fake_cond) == -EBADF);
        for (ipc_rwlock *bad : {static_cast<ipc_rwlock *>(nullptr), fake_rwlock}) {
            CHECK(ipc_rwlock_rdlock(bad) == -EBADF);
            CHECK(ipc_rwlock_tryrdlock(bad) == -EBADF);
            CHECK(ipc_rwlock_timedrdlock(bad, 1) == -EBADF);
            CHECK(ipc_rwlock_wrlock(bad) == -EBADF);
            CHECK(ipc_rwlock_trywrlock(bad) == -EBADF);
            CHECK(ipc_rwlock_timedwrlock(bad, 1) == -EBADF);
            CHECK(ipc_rwlock_unlock(bad) == -EBADF);
        }
        CHECK(ipc_rwlock_close(fake_rwlock) == -EBADF);
        CHECK(ipc_mutex_close(nullptr) == 0);
        CHECK(ipc_cond_close(nullptr) == 0);
        CHECK(ipc_rwlock_close(nullptr) == 0);

        REQUIRE(ipc_mutex_close(m) == 0);
        REQUIRE(ipc_cond_close(c) == 0);
        REQUIRE(ipc_rwlock_close(rw) == 0);
        CHECK(ipc_mutex_lock(m) == -EBADF);
        CHECK(mentions("not a live ipc_mutex handle"));
        CHECK(ipc_mutex_close(m) == -EBADF);
        CHECK(ipc_cond_signal(c) == -EBADF);
        CHECK(ipc_rwlock_rdlock(rw) == -EBADF);
    }

    SECTION("misuse of a mutex: EPERM, EDEADLK, EINVAL") {
        REQUIRE(ipc_mutex_init(&m, mutex_place, 4096, 0) == 0);
        REQUIRE(ipc_cond_init(&c, arena.at(cond_at), 1024, 0) == 0);
        CHECK(ipc_mutex_unlock(m) == -EPERM);
        CHECK(mentions("does not hold"));
        CHECK(ipc_cond_wait(c, m) == -EPERM);           // waiting needs the mutex held
        CHECK(ipc_cond_timedwait(c, m, 0.01) == -EPERM);
        CHECK(ipc_mutex_consistent(m) == -EINVAL);       // nobody died
        CHECK(ipc_mutex_set_spin(m, -1) == -EINVAL);
        CHECK(ipc_cond_set_spin(c, -1) == -EINVAL);
        CHECK(mentions("condition spin: -1 ns"));
        CHECK(ipc_mutex_timedlock(m, NAN) == -EINVAL);
        CHECK(ipc_mutex_timedlock(m, -0.5) == -EINVAL);
        REQUIRE(ipc_mutex_lock(m) == 0);
        CHECK(ipc_mutex_lock(m) == -EDEADLK);
        CHECK(ipc_mutex_timedlock(m, 0.01) == -EDEADLK);
        CHECK(ipc_mutex_trylock(m) == -EAGAIN);
        CHECK(ipc_cond_timedwait(c, m, NAN) == -EINVAL);
        CHECK(ipc_cond_timedwait(c, m, -1) == -EINVAL);
        // Another thread of this process does not hold it either.
        int from_thread = 0;
        std::thread([&] { from_thread = ipc_mutex_unlock(m); }).join();
        CHECK(from_thread == -EPERM);
        CHECK(ipc_mutex_unlock(m) == 0);
        CHECK(ipc_mutex_close(m) == 0);
        CHECK(ipc_cond_close(c) == 0);
    }

    SECTION("misuse of a read/write lock: EPERM, EDEADLK, EINVAL") {
        REQUIRE(ipc_rwlock_init(&rw, arena.at(rwlock_at), 1024, 0) == 0);
        CHECK(ipc_rwlock_unlock(rw) == -EPERM);
        CHECK(mentions("not held"));
        CHECK(ipc_rwlock_timedrdlock(rw, NAN) == -EINVAL);
        CHECK(ipc_rwlock_timedwrlock(rw, -1) == -EINVAL);
        REQUIRE(ipc_rwlock_wrlock(rw) == 0);
        CHECK(ipc_rwlock_wrlock(rw) == -EDEADLK);
        CHECK(ipc_rwlock_rdlock(rw) == -EDEADLK);
        int from_thread = 0;
        std::thread([&] { from_thread = ipc_rwlock_unlock(rw); }).join();
        CHECK(from_thread == -EPERM);
        CHECK(ipc_rwlock_unlock(rw) == 0);
        CHECK(ipc_rwlock_unlock(rw) == -EPERM);
        CHECK(ipc_rwlock_close(rw) == 0);
    }
}

TEST_CASE("named lock bad input gives exact codes", "[sync][errors]") {
    ipc_mutex *m = nullptr;
    ipc_cond *c = nullptr;
    ipc_rwlock *rw = nullptr;
    for (const char *bad : {"", "noslash", "/", "/a/b", "key:12", "/.."}) {
        CHECK(ipc_mutex_create(&m, bad, 0600, 0) == -EINVAL);
        CHECK(ipc_mutex_open(&m, bad) == -EINVAL);
        CHECK(ipc_mutex_unlink(bad) == -EINVAL);
        CHECK(ipc_cond_create(&c, bad, 0600, 0) == -EINVAL);
        CHECK(ipc_cond_open(&c, bad) == -EINVAL);
        CHECK(ipc_cond_unlink(bad) == -EINVAL);
        CHECK(ipc_rwlock_create(&rw, bad, 0600, 0) == -EINVAL);
        CHECK(ipc_rwlock_open(&rw, bad) == -EINVAL);
        CHECK(ipc_rwlock_unlink(bad) == -EINVAL);
    }
    CHECK(ipc_mutex_create(&m, nullptr, 0600, 0) == -EINVAL);
    CHECK(ipc_cond_open(&c, nullptr) == -EINVAL);
    CHECK(ipc_rwlock_unlink(nullptr) == -EINVAL);
    CHECK(ipc_mutex_create(nullptr, "/x", 0600, 0) == -EINVAL);

    std::string name = test::unique_name("badnamed");
    CHECK(ipc_mutex_create(&m, name.c_str(), 01000, 0) == -EINVAL);
    CHECK(ipc_mutex_create(&m, name.c_str(), 0600, IPC_RDONLY) == -EINVAL);
    CHECK(ipc_mutex_create(&m, name.c_str(), 0600, IPC_RWLOCK_PREFER_WRITER) == -EINVAL);
    CHECK(ipc_cond_create(&c, name.c_str(), 0600, IPC_RWLOCK_PREFER_WRITER) == -EINVAL);
    CHECK(ipc_mutex_open(&m, name.c_str()) == -ENOENT);
    CHECK(ipc_cond_open(&c, name.c_str()) == -ENOENT);
    CHECK(ipc_rwlock_open(&rw, name.c_str()) == -ENOENT);
    CHECK(ipc_mutex_unlink(name.c_str()) == -ENOENT);
    CHECK(mentions("mutex unlink"));
    CHECK(ipc_cond_unlink(name.c_str()) == -ENOENT);
    CHECK(ipc_rwlock_unlink(name.c_str()) == -ENOENT);
    CHECK(m == nullptr);
    CHECK(c == nullptr);
    CHECK(rw == nullptr);

    // An existing name: exclusive creation fails, other kinds do not fit it.
    REQUIRE(ipc_mutex_create(&m, name.c_str(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    ipc_mutex *other = nullptr;
    CHECK(ipc_mutex_create(&other, name.c_str(), 0600, 0) == -EEXIST);
    CHECK(ipc_cond_open(&c, name.c_str()) == -EBADMSG);
    CHECK(mentions("holds a mutex, not a condition variable"));
    CHECK(ipc_rwlock_create(&rw, name.c_str(), 0600, IPC_OPEN_OR_CREATE) == -EBADMSG);
    CHECK(ipc_mutex_close(m) == 0);
    CHECK(ipc_mutex_open(&m, name.c_str()) == -ENOENT); // IPC_UNLINK_ON_CLOSE removed it
}

TEST_CASE("an object under the name that holds no ready lock is rejected, never waited for", "[sync][named]") {
    // What a creator killed midway would leave if the name could appear
    // before initialisation: a zero-filled object of the right size.
    std::string name = test::unique_name("unready");
    ipc_shm *raw = nullptr;
    REQUIRE(ipc_shm_create(&raw, name.c_str(), ipc_mutex_size(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    auto start = std::chrono::steady_clock::now();
    ipc_mutex *m = nullptr;
    CHECK(ipc_mutex_open(&m, name.c_str()) == -EBADMSG);
    CHECK(mentions("no initialised lock"));
    CHECK(ipc_mutex_create(&m, name.c_str(), 0600, IPC_OPEN_OR_CREATE) == -EBADMSG);
    ipc_cond *c = nullptr;
    CHECK(ipc_cond_open(&c, name.c_str()) == -EBADMSG);
    CHECK(seconds_since(start) < 1.0);
    CHECK(m == nullptr);
    ipc_shm_close(raw);

    // Too small to hold a lock at all.
    REQUIRE(ipc_shm_create(&raw, name.c_str(), 10, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_mutex_open(&m, name.c_str()) == -EBADMSG);
    CHECK(mentions("too few for a lock"));
    ipc_shm_close(raw);
}

TEST_CASE("a named lock gets the mode asked for and its name lasts until unlinked", "[sync][named]") {
    std::string name = test::unique_name("mode");
    ipc_rwlock *rw = nullptr;
    REQUIRE(ipc_rwlock_create(&rw, name.c_str(), 0640, 0) == 0);
    ipc_shm_info info{};
    REQUIRE(ipc_shm_stat(name.c_str(), &info) == 0);
    CHECK(info.mode == 0640);
    CHECK(ipc_rwlock_close(rw) == 0);
    int status = test::in_child([&] {
        ipc_rwlock *theirs = nullptr;
        if (ipc_rwlock_open(&theirs, name.c_str()) != 0 || ipc_rwlock_wrlock(theirs) != 0)
            return 1;
        return ipc_rwlock_unlock(theirs) == 0 && ipc_rwlock_close(theirs) == 0 ? 0 : 2;
    });
    CHECK(test::exit_code(status) == 0);
    status = test::as_nobody([&] {
        ipc_rwlock *theirs = nullptr;
        return ipc_rwlock_open(&theirs, name.c_str()) == -EACCES ? 0 : 1;
    });
    CHECK(test::exit_code(status) == 0);
    CHECK(ipc_rwlock_unlink(name.c_str()) == 0);
    CHECK(ipc_rwlock_unlink(name.c_str()) == -ENOENT);
    CHECK(ipc_rwlock_open(&rw, name.c_str()) == -ENOENT);
}

TEST_CASE("four processes adding under the mutex give the exact total", "[sync][mutex][process]") {
    Arena arena;
    arena.mutex(); // the children attach to it
    auto *total = reinterpret_cast<volatile long *>(arena.at(data_at + 1024));
    *total = 0;
    auto [processes, rounds, spin] = GENERATE(std::tuple{4, 100000, int64_t{0}}, std::tuple{2, 20000, int64_t{50000}});
    // Each child maps the arena afresh, at its own address, and attaches there.
    auto codes = run_children(arena, processes, [&](int) {
        ipc_shm *mine = nullptr;
        ipc_mutex *mx = nullptr;
        if (ipc_shm_open(&mine, arena.name.c_str(), 0) != 0 ||
            ipc_mutex_attach(&mx, static_cast<char *>(ipc_shm_addr(mine)) + mutex_at, ipc_mutex_size()) != 0 ||
            ipc_mutex_set_spin(mx, spin) != 0)
            return 1;
        auto *sum = reinterpret_cast<volatile long *>(static_cast<char *>(ipc_shm_addr(mine)) + data_at + 1024);
        for (int i = 0; i < rounds; ++i) {
            if (ipc_mutex_lock(mx) != 0)
                return 2;
            *sum = *sum + 1; // not atomic: only the mutex keeps increments from being lost
            if (ipc_mutex_unlock(mx) != 0)
                return 3;
        }
        return 0;
    });
    CHECK(codes == std::vector<int>(processes, 0));
    CHECK(*total == long{processes} * rounds);
}

TEST_CASE("the owner killed holding a mutex: EOWNERDEAD, consistent, normal use after", "[sync][mutex][process]") {
    Arena arena;
    bool named = GENERATE(false, true);
    std::string name = test::unique_name("robust");
    ipc_mutex *m = nullptr;
    if (named)
        REQUIRE(ipc_mutex_create(&m, name.c_str(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    else
        REQUIRE(ipc_mutex_init(&m, arena.at(mutex_at), ipc_mutex_size(), 0) == 0);

    CHECK(owner_dies_holding(arena, m) == -SIGKILL);

    REQUIRE(ipc_mutex_lock(m) == -EOWNERDEAD);
    CHECK(mentions("ipc_mutex_consistent"));
    CHECK(ipc_mutex_trylock(m) == -EAGAIN); // held by this thread now
    CHECK(ipc_mutex_consistent(m) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
    CHECK(ipc_mutex_consistent(m) == -EINVAL);
    int status = test::in_child([&] {
        ipc_mutex *theirs = nullptr;
        int rc = named ? ipc_mutex_open(&theirs, name.c_str())
                       : ipc_mutex_attach(&theirs, arena.at(mutex_at), ipc_mutex_size());
        if (rc != 0 || ipc_mutex_lock(theirs) != 0 || ipc_mutex_unlock(theirs) != 0)
            return 1;
        return 0;
    });
    CHECK(test::exit_code(status) == 0);
    CHECK(ipc_mutex_timedlock(m, 1) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);

    SECTION("through trylock and timedlock too") {
        for (int form : {0, 1}) {
            CHECK(owner_dies_holding(arena, m) == -SIGKILL);
            CHECK((form == 0 ? ipc_mutex_trylock(m) : ipc_mutex_timedlock(m, 1)) == -EOWNERDEAD);
            CHECK(ipc_mutex_consistent(m) == 0);
            CHECK(ipc_mutex_unlock(m) == 0);
        }
    }
    ipc_mutex_close(m);
}

TEST_CASE("closing the mapping of a mutex this thread holds neither crashes nor loses the owner's death",
          "[sync][mutex][process]") {
    // The thread's robust list runs through the mutexes it holds: were the
    // closed mapping unmapped, unlocking the other mutex (listed behind it)
    // would read unmapped memory, and the death below would go unnoticed.
    Arena arena;
    std::string name = test::unique_name("closed-held");
    const bool through_shm = GENERATE(false, true);
    int status = test::in_child([&] {
        ipc_mutex *other = nullptr, *m = nullptr;
        ipc_shm *shm = nullptr;
        if (ipc_mutex_init(&other, arena.at(mutex_at), ipc_mutex_size(), 0) != 0)
            return 1;
        if (through_shm ? ipc_shm_create(&shm, name.c_str(), 4096, 0600, 0) != 0 ||
                              ipc_mutex_init(&m, ipc_shm_addr(shm), ipc_mutex_size(), 0) != 0
                        : ipc_mutex_create(&m, name.c_str(), 0600, 0) != 0)
            return 2;
        if (ipc_mutex_lock(other) != 0 || ipc_mutex_lock(m) != 0)
            return 3;
        if (ipc_mutex_close(m) != 0 || ipc_shm_close(shm) != 0) // the handles go, held or not
            return 4;
        if (ipc_mutex_unlock(other) != 0 || ipc_mutex_close(other) != 0)
            return 5;
        raise(SIGKILL); // dies holding the mutex under `name`
        return 6;
    });
    CHECK(test::exit_code(status) == -SIGKILL);
    ipc_mutex *m = nullptr;
    ipc_shm *shm = nullptr;
    if (through_shm) {
        REQUIRE(ipc_shm_open(&shm, name.c_str(), 0) == 0);
        REQUIRE(ipc_mutex_attach(&m, ipc_shm_addr(shm), ipc_mutex_size()) == 0);
    } else {
        REQUIRE(ipc_mutex_open(&m, name.c_str()) == 0);
    }
    CHECK(ipc_mutex_timedlock(m, 10) == -EOWNERDEAD);
    CHECK(ipc_mutex_consistent(m) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
    CHECK(ipc_mutex_close(m) == 0);
    CHECK(ipc_shm_close(shm) == 0);
    CHECK((through_shm ? ipc_shm_unlink(name.c_str()) : ipc_mutex_unlink(name.c_str())) == 0);
}

TEST_CASE("unlocking without consistent makes the mutex ENOTRECOVERABLE everywhere", "[sync][mutex][process]") {
    Arena arena;
    ipc_mutex *m = arena.mutex();
    CHECK(owner_dies_holding(arena, m) == -SIGKILL);
    REQUIRE(ipc_mutex_lock(m) == -EOWNERDEAD);
    CHECK(ipc_mutex_unlock(m) == 0);
    CHECK(ipc_mutex_lock(m) == -ENOTRECOVERABLE);
    CHECK(mentions("unusable"));
    CHECK(ipc_mutex_trylock(m) == -ENOTRECOVERABLE);
    CHECK(ipc_mutex_timedlock(m, 0.1) == -ENOTRECOVERABLE);
    int status = test::in_child([&] {
        ipc_mutex *theirs = nullptr;
        if (ipc_mutex_attach(&theirs, arena.at(mutex_at), ipc_mutex_size()) != 0)
            return 1;
        return ipc_mutex_lock(theirs) == -ENOTRECOVERABLE ? 0 : 2;
    });
    CHECK(test::exit_code(status) == 0);
    // Initialising the memory again is the way back.
    ipc_mutex_close(m);
    m = arena.mutex();
    CHECK(ipc_mutex_lock(m) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
}

TEST_CASE("try and timed locks while another process holds the mutex", "[sync][mutex][process]") {
    Arena arena;
    ipc_mutex *m = arena.mutex();
    pid_t child = test::spawn([&] {
        if (ipc_mutex_lock(m) != 0)
            return 1;
        arena.cell(0).store(1);
        while (arena.cell(1).load() == 0)
            usleep(1000);
        return ipc_mutex_unlock(m) == 0 ? 0 : 2;
    });
    REQUIRE(test::eventually([&] { return arena.cell(0).load() == 1; }));
    CHECK(ipc_mutex_trylock(m) == -EAGAIN);
    CHECK(ipc_mutex_timedlock(m, 0) == -ETIMEDOUT);
    auto start = std::chrono::steady_clock::now();
    CHECK(ipc_mutex_timedlock(m, 0.2) == -ETIMEDOUT);
    double waited = seconds_since(start);
    CHECK(waited >= 0.2);
    CHECK(waited < 5.0);
    CHECK(mentions("timed out"));
    REQUIRE(ipc_mutex_set_spin(m, 100000) == 0);
    CHECK(ipc_mutex_timedlock(m, 0.05) == -ETIMEDOUT);
    arena.cell(1).store(1);
    CHECK(ipc_mutex_timedlock(m, 10) == 0);
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
}

TEST_CASE("condition variable: producer and consumer in two processes lose no wake-up", "[sync][cond][process]") {
    // Without a spin every wait sleeps in the kernel; with one most waits
    // end in the spin, and the hand-over between the two must be as exact.
    const int64_t spin = GENERATE(0, 200000);
    Arena arena;
    ipc_mutex *m = arena.mutex();
    ipc_cond *filled = arena.cond(cond_at), *emptied = arena.cond(cond2_at);
    REQUIRE(ipc_cond_set_spin(filled, spin) == 0);
    REQUIRE(ipc_mutex_set_spin(m, spin) == 0);
    // A one-item slot: 0 is empty. Waits are timed so a lost wake-up fails
    // the test instead of hanging it.
    std::atomic<int> &slot = arena.cell(0);
    constexpr int items = 2000;
    pid_t producer = test::spawn([&] {
        ipc_mutex *pm = nullptr;
        ipc_cond *pf = nullptr, *pe = nullptr;
        if (ipc_mutex_attach(&pm, arena.at(mutex_at), ipc_mutex_size()) != 0 ||
            ipc_cond_attach(&pf, arena.at(cond_at), ipc_cond_size()) != 0 ||
            ipc_cond_attach(&pe, arena.at(cond2_at), ipc_cond_size()) != 0 ||
            ipc_cond_set_spin(pe, spin) != 0 || ipc_mutex_set_spin(pm, spin) != 0)
            return 1;
        for (int i = 1; i <= items; ++i) {
            if (ipc_mutex_lock(pm) != 0)
                return 2;
            while (slot.load() != 0)
                if (ipc_cond_timedwait(pe, pm, 10) != 0)
                    return 3;
            slot.store(i);
            if (ipc_cond_signal(pf) != 0 || ipc_mutex_unlock(pm) != 0)
                return 4;
        }
        return 0;
    });
    int received = 0;
    bool in_order = true;
    for (int i = 1; i <= items; ++i) {
        REQUIRE(ipc_mutex_lock(m) == 0);
        while (slot.load() == 0)
            REQUIRE(ipc_cond_timedwait(filled, m, 10) == 0);
        in_order = in_order && slot.load() == i;
        slot.store(0);
        ++received;
        REQUIRE(ipc_cond_signal(emptied) == 0);
        REQUIRE(ipc_mutex_unlock(m) == 0);
    }
    CHECK(received == items);
    CHECK(in_order);
    CHECK(test::exit_code(test::wait_for(producer)) == 0);
}

TEST_CASE("condition variable: three producers and three consumers through one slot, signals only",
          "[sync][cond][process]") {
    // The classic bounded buffer: every hand-over wakes one waiter of the
    // right kind, never all of them, so a wake-up lost to the wrong waiter or
    // to a race with the sleep leaves someone waiting out its 10 s: a failure.
    Arena arena;
    ipc_mutex *m = arena.mutex();
    ipc_cond *filled = arena.cond(cond_at), *emptied = arena.cond(cond2_at);
    std::atomic<int> &slot = arena.cell(0), &sum = arena.cell(1);
    constexpr int per_producer = 1000, sides = 3;
    auto codes = run_children(arena, 2 * sides, [&](int i) {
        const bool producer = i < sides;
        for (int k = 1; k <= per_producer; ++k) {
            if (ipc_mutex_lock(m) != 0)
                return 1;
            while ((slot.load() != 0) == producer)
                if (ipc_cond_timedwait(producer ? emptied : filled, m, 10) != 0)
                    return 2;
            if (producer) {
                slot.store(k);
            } else {
                sum.fetch_add(slot.load());
                slot.store(0);
            }
            if (ipc_cond_signal(producer ? filled : emptied) != 0 || ipc_mutex_unlock(m) != 0)
                return 3;
        }
        return 0;
    });
    CHECK(codes == std::vector<int>(2 * sides, 0));
    CHECK(sum.load() == sides * per_producer * (per_producer + 1) / 2);
}

TEST_CASE("condition variable: a waiter killed in its wait leaves it working for the next ones",
          "[sync][cond][process]") {
    // With glibc's process-shared pthread_cond_t (2.36) the second round here
    // never wakes: the killed waiter is waited for forever.
    Arena arena;
    ipc_mutex *m = arena.mutex();
    ipc_cond *c = arena.cond();
    std::atomic<int> &waiting = arena.cell(0), &go = arena.cell(1);
    auto waiter = [&] {
        return test::spawn([&] {
            if (ipc_mutex_lock(m) != 0)
                return 1;
            waiting.fetch_add(1);
            while (go.load() == 0)
                if (ipc_cond_timedwait(c, m, 10) != 0)
                    return 2;
            return ipc_mutex_unlock(m) == 0 ? 0 : 3;
        });
    };
    // Once a waiter counted itself under the mutex, taking the mutex here
    // means it is inside its wait.
    auto wait_inside = [&](int n) {
        REQUIRE(test::eventually([&] { return waiting.load() == n; }));
        REQUIRE(ipc_mutex_lock(m) == 0);
        REQUIRE(ipc_mutex_unlock(m) == 0);
    };
    pid_t doomed = waiter();
    wait_inside(1);
    kill(doomed, SIGKILL);
    CHECK(test::exit_code(test::wait_for(doomed)) == -SIGKILL);
    for (int round = 0; round < 3; ++round) {
        waiting.store(0);
        go.store(0);
        pid_t next = waiter();
        wait_inside(1);
        REQUIRE(ipc_mutex_lock(m) == 0);
        go.store(1);
        CHECK(ipc_cond_signal(c) == 0);
        REQUIRE(ipc_mutex_unlock(m) == 0);
        CHECK(test::exit_code(test::wait_for(next)) == 0);
    }
}

namespace {
volatile sig_atomic_t handled = 0;
extern "C" void note_signal(int) { handled = 1; }
} // namespace

TEST_CASE("condition variable: a signal handler ends a wait as a spurious wake-up", "[sync][cond]") {
    Arena arena;
    ipc_mutex *m = arena.mutex();
    ipc_cond *c = arena.cond();
    struct sigaction action {}, old {};
    action.sa_handler = note_signal; // no SA_RESTART, as Python installs its handlers
    sigemptyset(&action.sa_mask);
    REQUIRE(sigaction(SIGUSR2, &action, &old) == 0);
    handled = 0;
    pthread_t waiter = pthread_self();
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        pthread_kill(waiter, SIGUSR2);
    });
    REQUIRE(ipc_mutex_lock(m) == 0);
    int rc = ipc_cond_timedwait(c, m, 30);
    sender.join();
    CHECK(rc == 0);
    CHECK(handled == 1);
    CHECK(ipc_mutex_trylock(m) == -EAGAIN); // held again by this thread
    CHECK(ipc_mutex_unlock(m) == 0);
    sigaction(SIGUSR2, &old, nullptr);
}

TEST_CASE("condition variable: a broadcast on a named one wakes every waiting process", "[sync][cond][process]") {
    Arena arena;
    std::string mutex_name = test::unique_name("bm"), cond_name = test::unique_name("bc");
    ipc_mutex *m = nullptr;
    ipc_cond *c = nullptr;
    REQUIRE(ipc_mutex_create(&m, mutex_name.c_str(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_cond_create(&c, cond_name.c_str(), 0600, IPC_UNLINK_ON_CLOSE) == 0);
    std::atomic<int> &waiting = arena.cell(0), &go = arena.cell(1);
    std::vector<pid_t> waiters;
    for (int i = 0; i < 3; ++i)
        waiters.push_back(test::spawn([&] {
            ipc_mutex *wm = nullptr;
            ipc_cond *wc = nullptr;
            if (ipc_mutex_open(&wm, mutex_name.c_str()) != 0 || ipc_cond_open(&wc, cond_name.c_str()) != 0)
                return 1;
            if (ipc_mutex_lock(wm) != 0)
                return 2;
            waiting.fetch_add(1);
            while (go.load() == 0)
                if (ipc_cond_timedwait(wc, wm, 10) != 0)
                    return 3;
            return ipc_mutex_unlock(wm) == 0 ? 0 : 4;
        }));
    // Once a waiter counted itself under the mutex, taking the mutex here
    // means it is inside its wait.
    REQUIRE(test::eventually([&] { return waiting.load() == 3; }));
    REQUIRE(ipc_mutex_lock(m) == 0);
    go.store(1);
    CHECK(ipc_cond_broadcast(c) == 0);
    REQUIRE(ipc_mutex_unlock(m) == 0);
    for (pid_t pid : waiters)
        CHECK(test::exit_code(test::wait_for(pid)) == 0);
    ipc_cond_close(c);
    ipc_mutex_close(m);
}

TEST_CASE("condition variable: timed waits time out holding the mutex again", "[sync][cond]") {
    Arena arena;
    ipc_mutex *m = arena.mutex();
    ipc_cond *c = arena.cond();
    REQUIRE(ipc_mutex_lock(m) == 0);
    CHECK(ipc_cond_timedwait(c, m, 0) == -ETIMEDOUT);
    auto start = std::chrono::steady_clock::now();
    CHECK(ipc_cond_timedwait(c, m, 0.15) == -ETIMEDOUT);
    double waited = seconds_since(start);
    CHECK(waited >= 0.15);
    CHECK(waited < 5.0);
    CHECK(ipc_mutex_trylock(m) == -EAGAIN); // held again by this thread
    CHECK(ipc_mutex_unlock(m) == 0);
    CHECK(ipc_cond_signal(c) == 0); // no waiter: nothing happens
    CHECK(ipc_cond_broadcast(c) == 0);
}

TEST_CASE("condition variable: a wait reports EOWNERDEAD when the mutex owner died", "[sync][cond][process]") {
    Arena arena;
    ipc_mutex *m = arena.mutex();
    ipc_cond *c = arena.cond();
    REQUIRE(ipc_mutex_lock(m) == 0);
    pid_t child = test::spawn([&] {
        // Takes the mutex once the parent waits, signals, and dies holding it.
        if (ipc_mutex_lock(m) != 0)
            return 1;
        ipc_cond_signal(c);
        raise(SIGKILL);
        return 2;
    });
    int rc = 0;
    while ((rc = ipc_cond_timedwait(c, m, 10)) == 0) {
    }
    CHECK(rc == -EOWNERDEAD);
    CHECK(test::exit_code(test::wait_for(child)) == -SIGKILL);
    CHECK(ipc_mutex_consistent(m) == 0);
    CHECK(ipc_mutex_unlock(m) == 0);
}

TEST_CASE("read/write lock: readers in several processes at once, a writer alone", "[sync][rwlock][process]") {
    Arena arena;
    ipc_rwlock *rw = arena.rwlock();
    std::atomic<int> &inside = arena.cell(0), &release = arena.cell(1), &blocked = arena.cell(2);

    // Three readers hold the lock together: each waits, holding it, until
    // all three are in.
    std::vector<pid_t> readers;
    for (int i = 0; i < 3; ++i)
        readers.push_back(test::spawn([&] {
            ipc_rwlock *mine = nullptr;
            if (ipc_rwlock_attach(&mine, arena.at(rwlock_at), ipc_rwlock_size()) != 0 ||
                ipc_rwlock_rdlock(mine) != 0)
                return 1;
            inside.fetch_add(1);
            if (!test::eventually([&] { return inside.load() == 3; }))
                return 2;
            while (release.load() == 0)
                usleep(1000);
            return ipc_rwlock_unlock(mine) == 0 ? 0 : 3;
        }));
    REQUIRE(test::eventually([&] { return inside.load() == 3; }));
    CHECK(ipc_rwlock_tryrdlock(rw) == 0); // one more reader is fine
    CHECK(ipc_rwlock_unlock(rw) == 0);
    CHECK(ipc_rwlock_trywrlock(rw) == -EAGAIN);
    CHECK(ipc_rwlock_timedwrlock(rw, 0.05) == -ETIMEDOUT);
    release.store(1);
    for (pid_t pid : readers)
        CHECK(test::exit_code(test::wait_for(pid)) == 0);

    // A writer keeps out readers and writers of other processes.
    REQUIRE(ipc_rwlock_wrlock(rw) == 0);
    int status = test::in_child([&] {
        ipc_rwlock *mine = nullptr;
        if (ipc_rwlock_attach(&mine, arena.at(rwlock_at), ipc_rwlock_size()) != 0)
            return 1;
        bool kept_out = ipc_rwlock_tryrdlock(mine) == -EAGAIN && ipc_rwlock_trywrlock(mine) == -EAGAIN &&
                        ipc_rwlock_timedrdlock(mine, 0.05) == -ETIMEDOUT &&
                        ipc_rwlock_timedwrlock(mine, 0) == -ETIMEDOUT;
        blocked.store(kept_out ? 1 : 2);
        return 0;
    });
    CHECK(test::exit_code(status) == 0);
    CHECK(blocked.load() == 1);
    CHECK(ipc_rwlock_unlock(rw) == 0);
    CHECK(ipc_rwlock_timedrdlock(rw, 1) == 0);
    CHECK(ipc_rwlock_unlock(rw) == 0);
}

TEST_CASE("read/write lock: a forked child's write lock is its own, not its parent's", "[sync][rwlock][process]") {
    Arena arena;
    ipc_rwlock *rw = arena.rwlock();
    // The library learns this thread's id before the fork; the child must not
    // take it for its own.
    REQUIRE(ipc_rwlock_wrlock(rw) == 0);
    REQUIRE(ipc_rwlock_unlock(rw) == 0);
    std::atomic<int> &held = arena.cell(0), &release = arena.cell(1);
    pid_t child = test::spawn([&] {
        if (ipc_rwlock_wrlock(rw) != 0)
            return 1;
        held.store(1);
        while (release.load() == 0)
            std::this_thread::yield();
        return ipc_rwlock_unlock(rw) == 0 ? 0 : 2;
    });
    REQUIRE(test::eventually([&] { return held.load() == 1; }));
    CHECK(ipc_rwlock_unlock(rw) == -EPERM);
    CHECK(mentions("held by another thread"));
    release.store(1);
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    CHECK(ipc_rwlock_trywrlock(rw) == 0);
    CHECK(ipc_rwlock_unlock(rw) == 0);
}

TEST_CASE("read/write lock: no reader ever sees a writer inside, no writer sees anyone", "[sync][rwlock][process]") {
    Arena arena;
    arena.rwlock(); // the children attach to it
    std::atomic<int> &readers_in = arena.cell(0), &writers_in = arena.cell(1), &violations = arena.cell(2),
                     &max_readers = arena.cell(3);
    auto codes = run_children(arena, 4, [&](int i) {
        ipc_rwlock *mine = nullptr;
        if (ipc_rwlock_attach(&mine, arena.at(rwlock_at), ipc_rwlock_size()) != 0)
            return 1;
        bool writer = i < 2;
        for (int round = 0; round < 3000; ++round) {
            if ((writer ? ipc_rwlock_wrlock(mine) : ipc_rwlock_rdlock(mine)) != 0)
                return 2;
            if (writer) {
                if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0)
                    violations.fetch_add(1);
                writers_in.fetch_sub(1);
            } else {
                int now = readers_in.fetch_add(1) + 1;
                if (writers_in.load() != 0)
                    violations.fetch_add(1);
                for (int seen = max_readers.load(); now > seen && !max_readers.compare_exchange_weak(seen, now);) {
                }
                readers_in.fetch_sub(1);
            }
            if (ipc_rwlock_unlock(mine) != 0)
                return 3;
        }
        return 0;
    });
    CHECK(codes == std::vector<int>(4, 0));
    CHECK(violations.load() == 0);
    CHECK(max_readers.load() >= 1);
}

TEST_CASE("read/write lock: IPC_RWLOCK_PREFER_WRITER holds new readers back for a waiting writer",
          "[sync][rwlock][process]") {
    Arena arena;
    uint32_t flags = GENERATE(0u, uint32_t{IPC_RWLOCK_PREFER_WRITER});
    ipc_rwlock *rw = arena.rwlock(flags);
    REQUIRE(ipc_rwlock_rdlock(rw) == 0);
    pid_t writer = test::spawn([&] {
        ipc_rwlock *mine = nullptr;
        if (ipc_rwlock_attach(&mine, arena.at(rwlock_at), ipc_rwlock_size()) != 0 || ipc_rwlock_wrlock(mine) != 0)
            return 1;
        return ipc_rwlock_unlock(mine) == 0 ? 0 : 2;
    });
    // Another thread asks for a read lock while the writer waits.
    auto reader_held_back = [&] {
        int rc = 0;
        std::thread([&] {
            rc = ipc_rwlock_tryrdlock(rw);
            if (rc == 0)
                ipc_rwlock_unlock(rw);
        }).join();
        return rc == -EAGAIN;
    };
    if (flags)
        CHECK(test::eventually(reader_held_back));
    else
        CHECK_FALSE(test::eventually(reader_held_back, 0.3));
    CHECK(ipc_rwlock_unlock(rw) == 0);
    CHECK(test::exit_code(test::wait_for(writer)) == 0);
}

TEST_CASE("eight processes racing to create-or-open one name share one working mutex", "[sync][named][process]") {
    Arena arena;
    std::string name = test::unique_name("race");
    auto *total = reinterpret_cast<volatile long *>(arena.at(data_at + 1024));
    *total = 0;
    constexpr int rounds = 2000;
    auto codes = run_children(arena, 8, [&](int) {
        ipc_mutex *m = nullptr;
        if (ipc_mutex_create(&m, name.c_str(), 0600, IPC_OPEN_OR_CREATE) != 0)
            return 1;
        for (int k = 0; k < rounds; ++k) {
            if (ipc_mutex_lock(m) != 0)
                return 2;
            *total = *total + 1;
            if (ipc_mutex_unlock(m) != 0)
                return 3;
        }
        return ipc_mutex_close(m) == 0 ? 0 : 4;
    });
    CHECK(codes == std::vector<int>(8, 0));
    CHECK(*total == 8L * rounds);
    CHECK(ipc_mutex_unlink(name.c_str()) == 0);
}
