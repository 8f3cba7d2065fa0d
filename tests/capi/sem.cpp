// Semaphores through the public C API, across processes, and against plain
// libc sem_* users on the other side.
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <semaphore.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

bool mentions(const char *text) { return std::string(ipc_last_error()).find(text) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string sem_file(const std::string &name) { return "/dev/shm/sem." + name.substr(1); }

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Shared memory laid out as: semaphores at multiples of 64, then data.
struct Shared {
    ipc_shm *shm = nullptr;
    std::string name = test::unique_name("semshm");
    Shared() { REQUIRE(ipc_shm_create(&shm, name.c_str(), 4096, 0600, IPC_UNLINK_ON_CLOSE) == 0); }
    ~Shared() { ipc_shm_close(shm); }
    static void *sem_at(ipc_shm *s, int k) { return static_cast<char *>(ipc_shm_addr(s)) + 64 * k; }
    static volatile int64_t *data(ipc_shm *s, int k = 0) {
        return reinterpret_cast<volatile int64_t *>(static_cast<char *>(ipc_shm_addr(s)) + 1024) + k;
    }
    void *sem_at(int k) const { return sem_at(shm, k); }
    volatile int64_t *data(int k = 0) const { return data(shm, k); }
};

volatile sig_atomic_t handled = 0;
extern "C" void count_signal(int) { handled = handled + 1; }

} // namespace

TEST_CASE("in-memory ping-pong: 10,000 checked round trips", "[sem][process]") {
    // The peer attaches through its own mapping of the object; "libc" is a
    // peer that uses plain sem_wait/sem_post on the same sem_t.
    auto variant = GENERATE(as<std::string>{}, "no spin", "spin", "spin vs libc");
    const int64_t spin = variant == "no spin" ? 0 : 50'000;
    constexpr int rounds = 10'000;
    Shared mem;
    ipc_sem *ping = nullptr, *pong = nullptr;
    REQUIRE(ipc_sem_init(&ping, mem.sem_at(0), ipc_sem_size(), 0) == 0);
    REQUIRE(ipc_sem_init(&pong, mem.sem_at(1), ipc_sem_size(), 0) == 0);
    REQUIRE(ipc_sem_set_spin(pong, spin) == 0);
    *mem.data() = 0;

    pid_t child = test::spawn([&] {
        ipc_shm *own = nullptr;
        if (ipc_shm_open(&own, mem.name.c_str(), 0) != 0)
            return 1;
        volatile int64_t *counter = Shared::data(own);
        if (variant == "spin vs libc") {
            auto *a = static_cast<sem_t *>(Shared::sem_at(own, 0));
            auto *b = static_cast<sem_t *>(Shared::sem_at(own, 1));
            for (int i = 0; i < rounds; ++i) {
                if (sem_wait(a) != 0 || *counter != 2 * i)
                    return 2;
                *counter = 2 * i + 1;
                sem_post(b);
            }
            return ipc_shm_close(own);
        }
        ipc_sem *a = nullptr, *b = nullptr;
        if (ipc_sem_attach(&a, Shared::sem_at(own, 0), 64) != 0 ||
            ipc_sem_attach(&b, Shared::sem_at(own, 1), 64) != 0 || ipc_sem_set_spin(a, spin) != 0)
            return 3;
        for (int i = 0; i < rounds; ++i) {
            if (ipc_sem_wait(a) != 0 || *counter != 2 * i)
                return 4;
            *counter = 2 * i + 1;
            if (ipc_sem_post(b) != 0)
                return 5;
        }
        ipc_sem_close(a);
        ipc_sem_close(b);
        return ipc_shm_close(own);
    });
    int bad = 0;
    for (int i = 0; i < rounds && !bad; ++i) {
        REQUIRE(ipc_sem_post(ping) == 0);
        REQUIRE(ipc_sem_timedwait(pong, 10.0) == 0);
        if (*mem.data() != 2 * i + 1)
            bad = i + 1;
        *mem.data() = 2 * i + 2;
    }
    CHECK(bad == 0);
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    CHECK(ipc_sem_value(ping) == 0);
    CHECK(ipc_sem_value(pong) == 0);
    ipc_sem_close(ping);
    ipc_sem_close(pong);
}

TEST_CASE("a semaphore used as a lock by 4 processes keeps a counter exact", "[sem][process]") {
    constexpr int processes = 4, increments = 2000;
    Shared mem;
    ipc_sem *lock = nullptr;
    REQUIRE(ipc_sem_init(&lock, mem.sem_at(0), 64, 1) == 0);
    *mem.data() = 0;
    pid_t children[processes];
    for (int p = 0; p < processes; ++p) {
        children[p] = test::spawn([&, p] {
            ipc_sem *mine = nullptr;
            if (ipc_sem_attach(&mine, mem.sem_at(0), 64) != 0 || ipc_sem_set_spin(mine, p % 2 ? 20'000 : 0) != 0)
                return 1;
            for (int i = 0; i < increments; ++i) {
                if (ipc_sem_wait(mine) != 0)
                    return 2;
                int64_t v = *mem.data(); // a torn read-modify-write without the lock
                if (i % 64 == 0)
                    sched_yield();
                *mem.data() = v + 1;
                ipc_sem_post(mine);
            }
            return ipc_sem_close(mine);
        });
    }
    for (pid_t child : children)
        CHECK(test::exit_code(test::wait_for(child)) == 0);
    CHECK(*mem.data() == processes * increments);
    CHECK(ipc_sem_value(lock) == 1);
    ipc_sem_close(lock);
}

TEST_CASE("a waiter blocked in ipc_sem_wait is woken by a post from another process", "[sem][process]") {
    std::string name = test::unique_name("wake");
    ipc_sem *sem = nullptr;
    REQUIRE(ipc_sem_create(&sem, name.c_str(), 0, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    Shared mem;
    *mem.data() = 0;
    pid_t waiter = test::spawn([&] {
        ipc_sem *mine = nullptr;
        if (ipc_sem_open(&mine, name.c_str()) != 0)
            return 1;
        *mem.data() = 1;
        if (ipc_sem_wait(mine) != 0)
            return 2;
        *mem.data() = 2;
        return ipc_sem_close(mine);
    });
    REQUIRE(test::eventually([&] { return *mem.data() == 1; }));
    sleep_ms(50);
    CHECK(waitpid(waiter, nullptr, WNOHANG) == 0); // still blocked: nothing to take
    CHECK(*mem.data() == 1);
    int status = test::in_child([&] { // the post comes from a third process
        ipc_sem *poster = nullptr;
        return ipc_sem_open(&poster, name.c_str()) == 0 && ipc_sem_post(poster) == 0 ? ipc_sem_close(poster) : 1;
    });
    CHECK(test::exit_code(status) == 0);
    CHECK(test::exit_code(test::wait_for(waiter)) == 0);
    CHECK(*mem.data() == 2);
    CHECK(ipc_sem_value(sem) == 0);
    ipc_sem_close(sem);
}

TEST_CASE("timed waits: timeout, polling, forever, bad timeouts", "[sem][process]") {
    Shared mem;
    ipc_sem *sem = nullptr;
    REQUIRE(ipc_sem_init(&sem, mem.sem_at(0), 64, 0) == 0);

    auto start = std::chrono::steady_clock::now();
    CHECK(ipc_sem_timedwait(sem, 0.2) == -ETIMEDOUT);
    double waited = seconds_since(start);
    CHECK(waited >= 0.2);
    CHECK(waited < 5.0);
    CHECK(mentions("no post within"));

    CHECK(ipc_sem_timedwait(sem, 0.0) == -ETIMEDOUT); // 0 polls
    REQUIRE(ipc_sem_post(sem) == 0);
    CHECK(ipc_sem_timedwait(sem, 0.0) == 0);

    // The spin never outlasts the timeout.
    REQUIRE(ipc_sem_set_spin(sem, 2'000'000'000) == 0);
    start = std::chrono::steady_clock::now();
    CHECK(ipc_sem_timedwait(sem, 0.05) == -ETIMEDOUT);
    waited = seconds_since(start);
    CHECK(waited >= 0.05);
    CHECK(waited < 1.5);
    start = std::chrono::steady_clock::now();
    CHECK(ipc_sem_timedwait(sem, 0.0) == -ETIMEDOUT);
    CHECK(seconds_since(start) < 1.5);
    REQUIRE(ipc_sem_set_spin(sem, 0) == 0);

    CHECK(ipc_sem_timedwait(sem, NAN) == -EINVAL);
    CHECK(ipc_sem_timedwait(sem, -1.0) == -EINVAL);
    CHECK(ipc_sem_timedwait(sem, -INFINITY) == -EINVAL);
    CHECK(mentions("timeout"));

    pid_t poster = test::spawn([&] {
        sleep_ms(100);
        ipc_sem *theirs = nullptr;
        return ipc_sem_attach(&theirs, mem.sem_at(0), 64) == 0 && ipc_sem_post(theirs) == 0 ? 0 : 1;
    });
    start = std::chrono::steady_clock::now();
    CHECK(ipc_sem_timedwait(sem, INFINITY) == 0); // +inf blocks until the post
    CHECK(seconds_since(start) >= 0.05);
    CHECK(test::exit_code(test::wait_for(poster)) == 0);
    ipc_sem_close(sem);
}

TEST_CASE("a signal handler without SA_RESTART interrupts a wait with -EINTR", "[sem][process]") {
    auto form = GENERATE(as<std::string>{}, "wait", "timedwait", "spinning wait");
    Shared mem;
    ipc_sem *sem = nullptr;
    REQUIRE(ipc_sem_init(&sem, mem.sem_at(0), 64, 0) == 0);
    *mem.data() = 0;
    pid_t waiter = test::spawn([&] {
        struct sigaction action {};
        action.sa_handler = count_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0; // no SA_RESTART
        sigaction(SIGUSR1, &action, nullptr);
        ipc_sem *mine = nullptr;
        if (ipc_sem_attach(&mine, mem.sem_at(0), 64) != 0)
            return 1;
        if (form == "spinning wait")
            ipc_sem_set_spin(mine, 1'000'000);
        *mem.data() = 1;
        int rc = form == "timedwait" ? ipc_sem_timedwait(mine, 60.0) : ipc_sem_wait(mine);
        if (rc != -EINTR)
            return 2;
        return handled > 0 ? 0 : 3;
    });
    REQUIRE(test::eventually([&] { return *mem.data() == 1; }));
    // The signal may land before the wait starts; keep sending until it returns.
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 500 && done == 0; ++i) {
        kill(waiter, SIGUSR1);
        sleep_ms(10);
        done = waitpid(waiter, &status, WNOHANG);
    }
    if (done == 0) {
        kill(waiter, SIGKILL);
        status = test::wait_for(waiter);
    }
    CHECK(test::exit_code(status) == 0);
    CHECK(ipc_sem_value(sem) == 0); // nothing was taken
    ipc_sem_close(sem);
}

TEST_CASE("named semaphores are plain sem_open semaphores, both ways", "[sem][process][libc]") {
    std::string name = test::unique_name("libc");
    ipc_sem *sem = nullptr;
    REQUIRE(ipc_sem_create(&sem, name.c_str(), 3, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    // libc opens ours and sees its value.
    int status = test::in_child([&] {
        sem_t *theirs = sem_open(name.c_str(), 0);
        int value = -1;
        if (theirs == SEM_FAILED || sem_getvalue(theirs, &value) != 0 || value != 3)
            return 1;
        for (int i = 0; i < 3; ++i)
            sem_wait(theirs);
        return sem_close(theirs);
    });
    REQUIRE(test::exit_code(status) == 0);
    CHECK(ipc_sem_value(sem) == 0);
    // libc posts to us, then sleeps in sem_wait until we post.
    pid_t child = test::spawn([&] {
        sem_t *theirs = sem_open(name.c_str(), 0);
        if (theirs == SEM_FAILED || sem_post(theirs) != 0)
            return 1;
        sleep_ms(20);
        return sem_wait(theirs) == 0 ? sem_close(theirs) : 2;
    });
    REQUIRE(ipc_sem_timedwait(sem, 10.0) == 0);
    sleep_ms(30);
    REQUIRE(ipc_sem_post(sem) == 0);
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    CHECK(ipc_sem_value(sem) == 0);
    ipc_sem_close(sem);
    CHECK(access(sem_file(name).c_str(), F_OK) != 0); // unlinked on close

    // libc creates, libipc opens.
    std::string other = test::unique_name("libc");
    status = test::in_child([&] {
        sem_t *made = sem_open(other.c_str(), O_CREAT | O_EXCL, 0600, 2);
        return made == SEM_FAILED ? 1 : sem_close(made);
    });
    REQUIRE(test::exit_code(status) == 0);
    REQUIRE(ipc_sem_open(&sem, other.c_str()) == 0);
    CHECK(ipc_sem_value(sem) == 2);
    CHECK(ipc_sem_trywait(sem) == 0);
    CHECK(ipc_sem_trywait(sem) == 0);
    CHECK(ipc_sem_trywait(sem) == -EAGAIN);
    CHECK(mentions("value is 0"));
    pid_t waiter = test::spawn([&] {
        sem_t *made = sem_open(other.c_str(), 0);
        return made != SEM_FAILED && sem_wait(made) == 0 ? sem_close(made) : 1;
    });
    sleep_ms(20);
    REQUIRE(ipc_sem_post(sem) == 0);
    CHECK(test::exit_code(test::wait_for(waiter)) == 0);
    ipc_sem_close(sem);
    CHECK(ipc_sem_unlink(other.c_str()) == 0);
    CHECK(ipc_sem_unlink(other.c_str()) == -ENOENT);
}

TEST_CASE("the mode asked for is the mode the semaphore gets, whatever the umask", "[sem][process]") {
    mode_t mask = GENERATE(mode_t(022), mode_t(077));
    int status = test::in_child([&] {
        umask(mask);
        int bad = 0;
        for (uint32_t mode : {0666u, 0640u, 0604u, 0u}) {
            std::string name = test::unique_name("mode");
            ipc_sem *sem = nullptr;
            if (ipc_sem_create(&sem, name.c_str(), 0, mode, IPC_UNLINK_ON_CLOSE) != 0)
                return 10;
            struct stat st {};
            if (stat(sem_file(name).c_str(), &st) != 0 || (st.st_mode & 07777) != (mode ? mode : 0600u))
                ++bad;
            ipc_sem_close(sem);
        }
        return umask(0) == mask ? bad : 20; // the library never changed the umask
    });
    CHECK(test::exit_code(status) == 0);
}

TEST_CASE("semaphore permissions hold for an unprivileged user", "[sem][process]") {
    std::string closed = test::unique_name("perm"), open = test::unique_name("perm");
    ipc_sem *a = nullptr, *b = nullptr;
    REQUIRE(ipc_sem_create(&a, closed.c_str(), 0, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_sem_create(&b, open.c_str(), 0, 0666, IPC_UNLINK_ON_CLOSE) == 0);
    int status = test::as_nobody([&] {
        ipc_sem *sem = nullptr;
        if (ipc_sem_open(&sem, closed.c_str()) != -EACCES)
            return 1;
        if (ipc_sem_open(&sem, open.c_str()) != 0 || ipc_sem_post(sem) != 0)
            return 2;
        return ipc_sem_close(sem);
    });
    CHECK(test::exit_code(status) == 0);
    CHECK(ipc_sem_value(b) == 1);
    ipc_sem_close(a);
    ipc_sem_close(b);
}

TEST_CASE("open-or-create and unlink-on-close for semaphores", "[sem]") {
    std::string name = test::unique_name("ooc");
    ipc_sem *a = nullptr, *b = nullptr, *c = nullptr;
    REQUIRE(ipc_sem_create(&a, name.c_str(), 1, 0600, IPC_OPEN_OR_CREATE) == 0);
    REQUIRE(ipc_sem_create(&b, name.c_str(), 5, 0600, IPC_OPEN_OR_CREATE) == 0);
    CHECK(ipc_sem_value(b) == 1); // opened: the value given is ignored
    REQUIRE(ipc_sem_post(b) == 0);
    CHECK(ipc_sem_value(a) == 2);
    CHECK(ipc_sem_create(&c, name.c_str(), 0, 0600, 0) == -EEXIST);
    CHECK(c == nullptr);
    CHECK(mentions("File exists"));
    ipc_sem_close(b);
    ipc_sem_close(a);
    REQUIRE(ipc_sem_unlink(name.c_str()) == 0);
    CHECK(ipc_sem_unlink(name.c_str()) == -ENOENT);
    CHECK(ipc_sem_open(&a, name.c_str()) == -ENOENT);

    // The creator's unlink-on-close removes the name; other handles still work.
    REQUIRE(ipc_sem_create(&a, name.c_str(), 0, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_sem_open(&b, name.c_str()) == 0);
    ipc_sem_close(a);
    CHECK(ipc_sem_open(&c, name.c_str()) == -ENOENT);
    CHECK(ipc_sem_post(b) == 0);
    CHECK(ipc_sem_value(b) == 1);
    ipc_sem_close(b);

    // ... but not a name that meanwhile names another semaphore.
    REQUIRE(ipc_sem_create(&a, name.c_str(), 0, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_sem_unlink(name.c_str()) == 0);
    REQUIRE(ipc_sem_create(&b, name.c_str(), 7, 0600, 0) == 0);
    ipc_sem_close(a);
    REQUIRE(ipc_sem_open(&c, name.c_str()) == 0);
    CHECK(ipc_sem_value(c) == 7);
    ipc_sem_close(c);
    ipc_sem_close(b);
    CHECK(ipc_sem_unlink(name.c_str()) == 0);
}

TEST_CASE("a semaphore in memory outlives its handles", "[sem]") {
    alignas(64) unsigned char memory[64] = {};
    ipc_sem *sem = nullptr;
    REQUIRE(ipc_sem_init(&sem, memory, sizeof memory, 2) == 0);
    REQUIRE(ipc_sem_close(sem) == 0);
    REQUIRE(ipc_sem_attach(&sem, memory, sizeof memory) == 0);
    CHECK(ipc_sem_value(sem) == 2);
    // It is a plain sem_t.
    CHECK(sem_post(reinterpret_cast<sem_t *>(memory)) == 0);
    CHECK(ipc_sem_value(sem) == 3);
    ipc_sem_close(sem);
    CHECK(ipc_sem_size() == sizeof(sem_t));
    CHECK(ipc_sem_alignment() == alignof(sem_t));
    CHECK(ipc_sem_value_max() == SEM_VALUE_MAX);
}

TEST_CASE("bad input to semaphores gets its exact code", "[sem][errors]") {
    ipc_sem *sem = reinterpret_cast<ipc_sem *>(0x1);
    const uint32_t too_big = static_cast<uint32_t>(SEM_VALUE_MAX) + 1;
    std::string name = test::unique_name("bad");

    CHECK(ipc_sem_create(nullptr, name.c_str(), 0, 0, 0) == -EINVAL);
    CHECK(mentions("out-parameter is NULL"));
    CHECK(ipc_sem_create(&sem, nullptr, 0, 0, 0) == -EINVAL);
    CHECK(sem == nullptr);
    CHECK(ipc_sem_open(&sem, nullptr) == -EINVAL);
    CHECK(ipc_sem_open(nullptr, name.c_str()) == -EINVAL);
    for (const char *bad : {"", "sem", "/", "/a/b", "/.."}) {
        CHECK(ipc_sem_create(&sem, bad, 0, 0, 0) == -EINVAL);
        CHECK(ipc_sem_open(&sem, bad) == -EINVAL);
        CHECK(ipc_sem_unlink(bad) == -EINVAL);
    }
    std::string longest = name + std::string(252 - name.size(), 'n'); // 251 bytes after '/'
    CHECK(ipc_sem_create(&sem, (longest + "n").c_str(), 0, 0, 0) == -EINVAL);
    CHECK(mentions("at most 251"));
    REQUIRE(ipc_sem_create(&sem, longest.c_str(), 0, 0, IPC_UNLINK_ON_CLOSE) == 0);
    ipc_sem_close(sem);
    CHECK(ipc_sem_create(&sem, name.c_str(), too_big, 0, 0) == -EINVAL);
    CHECK(mentions("SEM_VALUE_MAX"));
    CHECK(ipc_sem_create(&sem, name.c_str(), 0, 01000, 0) == -EINVAL);
    CHECK(ipc_sem_create(&sem, name.c_str(), 0, 0, 0x100) == -EINVAL);
    CHECK(ipc_sem_create(&sem, name.c_str(), 0, 0, IPC_RDONLY) == -EINVAL);
    CHECK(mentions("flag"));
    CHECK(ipc_sem_open(&sem, name.c_str()) == -ENOENT);
    CHECK(mentions(name.c_str()));
    CHECK(ipc_sem_unlink(name.c_str()) == -ENOENT);
    CHECK(ipc_sem_unlink(nullptr) == -EINVAL);

    // Files under a semaphore's name that hold no semaphore.
    for (size_t bytes : {size_t(1), sizeof(sem_t)}) {
        int fd = open(sem_file(name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
        close(fd);
        CHECK(ipc_sem_open(&sem, name.c_str()) == -EINVAL);
        CHECK(mentions(bytes == 1 ? "too few" : "no process-shared semaphore"));
        REQUIRE(ipc_sem_unlink(name.c_str()) == 0);
    }

    // Memory for ipc_sem_init and ipc_sem_attach.
    alignas(64) unsigned char memory[128] = {};
    const size_t size = ipc_sem_size();
    CHECK(ipc_sem_init(&sem, nullptr, size, 0) == -EINVAL);
    CHECK(mentions("NULL"));
    CHECK(ipc_sem_init(&sem, memory + 1, size, 0) == -EINVAL);
    CHECK(mentions("not aligned"));
    CHECK(ipc_sem_init(&sem, memory, size - 1, 0) == -EINVAL);
    CHECK(mentions("needed"));
    CHECK(ipc_sem_init(&sem, memory, size, too_big) == -EINVAL);
    CHECK(ipc_sem_init(nullptr, memory, size, 0) == -EINVAL);
    CHECK(ipc_sem_attach(&sem, nullptr, size) == -EINVAL);
    CHECK(ipc_sem_attach(&sem, memory + 4, size) == -EINVAL);
    CHECK(ipc_sem_attach(&sem, memory, size - 1) == -EINVAL);
    CHECK(ipc_sem_attach(&sem, memory, size) == -EINVAL); // zeroed: no semaphore there
    CHECK(mentions("no process-shared semaphore"));
    REQUIRE(sem_init(reinterpret_cast<sem_t *>(memory), 0, 1) == 0); // for one process only
    CHECK(ipc_sem_attach(&sem, memory, size) == -EINVAL);
    CHECK(sem == nullptr);

    REQUIRE(ipc_sem_init(&sem, memory, size, static_cast<uint32_t>(SEM_VALUE_MAX)) == 0);
    CHECK(ipc_sem_value(sem) == SEM_VALUE_MAX);
    CHECK(ipc_sem_post(sem) == -EOVERFLOW);
    CHECK(ipc_sem_set_spin(sem, -1) == -EINVAL);
    CHECK(mentions(">= 0"));
    CHECK(ipc_sem_set_spin(sem, INT64_MIN) == -EINVAL);
    REQUIRE(ipc_sem_close(sem) == 0);

    // NULL, closed and wrong-kind handles.
    CHECK(ipc_sem_close(nullptr) == 0);
    for (ipc_sem *h : {static_cast<ipc_sem *>(nullptr), sem}) {
        CHECK(ipc_sem_post(h) == -EBADF);
        CHECK(ipc_sem_wait(h) == -EBADF);
        CHECK(ipc_sem_trywait(h) == -EBADF);
        CHECK(ipc_sem_timedwait(h, 1.0) == -EBADF);
        CHECK(ipc_sem_value(h) == -EBADF);
        CHECK(ipc_sem_set_spin(h, 0) == -EBADF);
    }
    CHECK(ipc_sem_close(sem) == -EBADF);
    CHECK(mentions("not a live ipc_sem handle"));
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 64, 0, IPC_UNLINK_ON_CLOSE) == 0);
    auto *wrong = reinterpret_cast<ipc_sem *>(shm);
    CHECK(ipc_sem_post(wrong) == -EBADF);
    CHECK(ipc_sem_wait(wrong) == -EBADF);
    CHECK(ipc_sem_close(wrong) == -EBADF);
    CHECK(ipc_shm_close(shm) == 0); // still a live shared memory handle
}
