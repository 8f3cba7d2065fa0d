// POSIX message queues through the public C API, across processes. Queue
// capacities stay at most 10, the default limit for unprivileged users.
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

bool mentions(const char *text) { return std::string(ipc_last_error()).find(text) != std::string::npos; }

int64_t proc_limit(const char *file) {
    std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
    int64_t value = 0;
    in >> value;
    return value;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// A queue made for one test and removed with it.
struct Queue {
    std::string name;
    ipc_mq *q = nullptr;
    explicit Queue(const char *tag, int64_t capacity = 10, int64_t msgsize = 64)
        : name(test::unique_name(tag)) {
        REQUIRE(ipc_mq_create(&q, name.c_str(), capacity, msgsize, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    }
    ~Queue() { ipc_mq_close(q); }
    Queue(const Queue &) = delete;
    Queue &operator=(const Queue &) = delete;
};

// Message i of the producer tests: its sequence number, then a pattern;
// sizes and priorities vary with i.
constexpr int64_t stream_msgsize = 1024;
size_t size_of(uint32_t i) { return 4 + (i * 37u) % (stream_msgsize - 3); }
uint32_t priority_of(uint32_t i) { return (i * 7919u) % 32u; }
uint8_t byte_of(uint32_t i, size_t j) { return static_cast<uint8_t>(i * 31u + j); }

std::vector<uint8_t> message(uint32_t i) {
    std::vector<uint8_t> m(size_of(i));
    for (size_t j = 4; j < m.size(); ++j)
        m[j] = byte_of(i, j);
    std::memcpy(m.data(), &i, 4);
    return m;
}

// The sequence number of a received message, or -1 when it is not intact.
int64_t check_message(const uint8_t *m, int len, uint32_t priority) {
    uint32_t i = 0;
    if (len < 4)
        return -1;
    std::memcpy(&i, m, 4);
    if (static_cast<size_t>(len) != size_of(i) || priority != priority_of(i))
        return -1;
    for (size_t j = 4; j < static_cast<size_t>(len); ++j)
        if (m[j] != byte_of(i, j))
            return -1;
    return i;
}

} // namespace

TEST_CASE("10,000 messages reach another process intact and in priority order", "[mq][process]") {
    constexpr uint32_t total = 10000, batch = 10;
    Queue data("data", batch, stream_msgsize);
    Queue queued("queued", 1, 1), taken("taken", 1, 1); // one token per batch each way

    // Batches: the consumer drains a batch only once it is wholly queued, so
    // the order it must see is exactly (priority descending, then sending order).
    pid_t producer = test::spawn([&] {
        ipc_mq *out = nullptr, *done = nullptr, *ack = nullptr;
        if (ipc_mq_open(&out, data.name.c_str(), IPC_WRONLY) != 0 ||
            ipc_mq_open(&done, queued.name.c_str(), IPC_WRONLY) != 0 ||
            ipc_mq_open(&ack, taken.name.c_str(), IPC_RDONLY) != 0)
            return 1;
        char token = 0;
        for (uint32_t first = 0; first < total; first += batch) {
            for (uint32_t i = first; i < first + batch; ++i) {
                auto m = message(i);
                if (ipc_mq_send(out, m.data(), m.size(), priority_of(i)) != 0)
                    return 2;
            }
            if (ipc_mq_send(done, "q", 1, 0) != 0)
                return 3;
            if (ipc_mq_timedreceive(ack, &token, 1, nullptr, 10.0) != 1 || token != 't')
                return 4;
        }
        return ipc_mq_close(out) | ipc_mq_close(done) | ipc_mq_close(ack);
    });

    std::vector<uint8_t> buf(stream_msgsize);
    int bad = 0, out_of_order = 0;
    char token = 0;
    for (uint32_t first = 0; first < total && !bad; first += batch) {
        REQUIRE(ipc_mq_timedreceive(queued.q, &token, 1, nullptr, 10.0) == 1);
        REQUIRE(token == 'q');
        REQUIRE(ipc_mq_count(data.q) == batch);
        std::vector<uint32_t> expected(batch);
        for (uint32_t k = 0; k < batch; ++k)
            expected[k] = first + k;
        std::stable_sort(expected.begin(), expected.end(),
                         [](uint32_t a, uint32_t b) { return priority_of(a) > priority_of(b); });
        for (uint32_t k = 0; k < batch; ++k) {
            uint32_t priority = 0;
            int len = ipc_mq_tryreceive(data.q, buf.data(), buf.size(), &priority);
            int64_t i = check_message(buf.data(), len, priority);
            bad += i < 0;
            out_of_order += i != expected[k];
        }
        REQUIRE(ipc_mq_send(taken.q, "t", 1, 0) == 0);
    }
    CHECK(bad == 0);
    CHECK(out_of_order == 0);
    CHECK(test::exit_code(test::wait_for(producer)) == 0);
    CHECK(ipc_mq_count(data.q) == 0);
}

TEST_CASE("a streaming producer blocks on a full queue and loses nothing", "[mq][process]") {
    constexpr uint32_t total = 10000;
    Queue data("stream", 10, stream_msgsize);
    pid_t producer = test::spawn([&] {
        ipc_mq *out = nullptr;
        if (ipc_mq_open(&out, data.name.c_str(), IPC_WRONLY) != 0)
            return 1;
        for (uint32_t i = 0; i < total; ++i) {
            auto m = message(i);
            // Timed, so a failed consumer leaves no child blocked forever.
            if (ipc_mq_timedsend(out, m.data(), m.size(), priority_of(i), 10.0) != 0)
                return 2;
        }
        return ipc_mq_close(out);
    });
    // Whatever the interleaving: every message once, intact, and each
    // priority's messages in sending order.
    std::vector<uint8_t> buf(stream_msgsize), seen(total, 0);
    std::vector<int64_t> last(32, -1);
    int bad = 0;
    for (uint32_t k = 0; k < total; ++k) {
        uint32_t priority = 0;
        int len = ipc_mq_timedreceive(data.q, buf.data(), buf.size(), &priority, 10.0);
        REQUIRE(len >= 0);
        int64_t i = check_message(buf.data(), len, priority);
        if (i < 0 || seen[i] || i <= last[priority]) {
            ++bad;
            continue;
        }
        seen[i] = 1;
        last[priority] = i;
    }
    CHECK(bad == 0);
    CHECK(std::count(seen.begin(), seen.end(), 1) == total);
    CHECK(test::exit_code(test::wait_for(producer)) == 0);
}

TEST_CASE("priorities, lengths and attributes in one process", "[mq]") {
    Queue queue("prio", 5, 16);
    CHECK(ipc_mq_capacity(queue.q) == 5);
    CHECK(ipc_mq_msgsize(queue.q) == 16);
    CHECK(ipc_mq_count(queue.q) == 0);
    uint32_t top = ipc_mq_priority_max();
    CHECK(top == 32767);
    REQUIRE(ipc_mq_send(queue.q, "low", 3, 0) == 0);
    REQUIRE(ipc_mq_send(queue.q, "top", 3, top) == 0);
    REQUIRE(ipc_mq_trysend(queue.q, "mid-1", 5, 7) == 0);
    REQUIRE(ipc_mq_timedsend(queue.q, "mid-2", 5, 7, 1.0) == 0);
    REQUIRE(ipc_mq_send(queue.q, nullptr, 0, 7) == 0); // empty messages are messages
    CHECK(ipc_mq_count(queue.q) == 5);

    char buf[16];
    uint32_t priority = 99;
    auto next = [&] {
        int len = ipc_mq_tryreceive(queue.q, buf, sizeof buf, &priority);
        return len < 0 ? std::string("error ") + std::to_string(len) : std::string(buf, len);
    };
    CHECK(next() == "top");
    CHECK(priority == top);
    CHECK(next() == "mid-1");
    CHECK(priority == 7);
    CHECK(next() == "mid-2");
    CHECK(next() == "");
    CHECK(priority == 7);
    CHECK(ipc_mq_receive(queue.q, buf, sizeof buf, nullptr) == 3); // priority may be NULL
    CHECK(ipc_mq_count(queue.q) == 0);
}

TEST_CASE("a full queue refuses trysend and times a timed send out", "[mq][process]") {
    Queue queue("full", 2, 8);
    // Another process fills it.
    int status = test::in_child([&] {
        ipc_mq *out = nullptr;
        if (ipc_mq_open(&out, queue.name.c_str(), IPC_WRONLY) != 0)
            return 1;
        int rc = ipc_mq_send(out, "a", 1, 0) | ipc_mq_send(out, "b", 1, 0);
        return ipc_mq_close(out) | (rc ? 2 : 0);
    });
    REQUIRE(test::exit_code(status) == 0);
    CHECK(ipc_mq_count(queue.q) == 2);
    CHECK(ipc_mq_trysend(queue.q, "c", 1, 0) == -EAGAIN);
    CHECK(mentions("full"));
    CHECK(ipc_mq_timedsend(queue.q, "c", 1, 0, 0.0) == -ETIMEDOUT);
    auto start = std::chrono::steady_clock::now();
    CHECK(ipc_mq_timedsend(queue.q, "c", 1, 0, 0.2) == -ETIMEDOUT);
    double waited = seconds_since(start);
    CHECK(waited >= 0.2);
    CHECK(waited < 5.0);
    CHECK(ipc_mq_count(queue.q) == 2);

    // And empty: tryreceive and timed receive.
    char buf[8];
    REQUIRE(ipc_mq_receive(queue.q, buf, sizeof buf, nullptr) == 1);
    REQUIRE(ipc_mq_receive(queue.q, buf, sizeof buf, nullptr) == 1);
    CHECK(ipc_mq_tryreceive(queue.q, buf, sizeof buf, nullptr) == -EAGAIN);
    CHECK(mentions("empty"));
    CHECK(ipc_mq_timedreceive(queue.q, buf, sizeof buf, nullptr, 0.0) == -ETIMEDOUT);
    start = std::chrono::steady_clock::now();
    CHECK(ipc_mq_timedreceive(queue.q, buf, sizeof buf, nullptr, 0.2) == -ETIMEDOUT);
    waited = seconds_since(start);
    CHECK(waited >= 0.2);
    CHECK(waited < 5.0);
}

TEST_CASE("a blocked receiver or sender is woken from another process", "[mq][process]") {
    auto form = GENERATE(as<std::string>{}, "blocking", "timed", "infinite");
    auto wait_receive = [&](ipc_mq *q, char *buf, size_t cap) {
        return form == "blocking" ? ipc_mq_receive(q, buf, cap, nullptr)
               : form == "timed"  ? ipc_mq_timedreceive(q, buf, cap, nullptr, 10.0)
                                  : ipc_mq_timedreceive(q, buf, cap, nullptr, INFINITY);
    };
    Queue queue("wake", 1, 8);
    pid_t sender = test::spawn([&] {
        ipc_mq *out = nullptr;
        if (ipc_mq_open(&out, queue.name.c_str(), IPC_WRONLY) != 0)
            return 1;
        pause_ms(100); // let the parent block first
        int rc = ipc_mq_send(out, "wake", 4, 3);
        return ipc_mq_close(out) | (rc ? 2 : 0);
    });
    char buf[8];
    auto start = std::chrono::steady_clock::now();
    CHECK(wait_receive(queue.q, buf, sizeof buf) == 4);
    CHECK(seconds_since(start) >= 0.05);
    CHECK(std::string(buf, 4) == "wake");
    CHECK(test::exit_code(test::wait_for(sender)) == 0);

    // A sender blocked on the full queue is woken when another process receives.
    REQUIRE(ipc_mq_send(queue.q, "full", 4, 0) == 0);
    pid_t receiver = test::spawn([&] {
        ipc_mq *in = nullptr;
        if (ipc_mq_open(&in, queue.name.c_str(), IPC_RDONLY) != 0)
            return 1;
        pause_ms(100);
        char got[8];
        int len = ipc_mq_receive(in, got, sizeof got, nullptr);
        return ipc_mq_close(in) | (len == 4 && std::string(got, 4) == "full" ? 0 : 2);
    });
    int rc = form == "blocking" ? ipc_mq_send(queue.q, "next", 4, 0)
             : form == "timed"  ? ipc_mq_timedsend(queue.q, "next", 4, 0, 10.0)
                                : ipc_mq_timedsend(queue.q, "next", 4, 0, INFINITY);
    CHECK(rc == 0);
    CHECK(test::exit_code(test::wait_for(receiver)) == 0);
    CHECK(ipc_mq_receive(queue.q, buf, sizeof buf, nullptr) == 4);
    CHECK(std::string(buf, 4) == "next");
}

TEST_CASE("the descriptor becomes readable when a message arrives", "[mq][process]") {
    Queue queue("poll", 1, 8);
    int fd = ipc_mq_fd(queue.q);
    REQUIRE(fd >= 0);
    pollfd p{fd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0); // empty: not readable
    pollfd w{fd, POLLOUT, 0};
    CHECK(poll(&w, 1, 0) == 1); // room: writable

    pid_t sender = test::spawn([&] {
        ipc_mq *out = nullptr;
        if (ipc_mq_open(&out, queue.name.c_str(), IPC_WRONLY) != 0)
            return 1;
        pause_ms(50);
        int rc = ipc_mq_send(out, "ready", 5, 1);
        return ipc_mq_close(out) | (rc ? 2 : 0);
    });
    p.revents = 0;
    REQUIRE(poll(&p, 1, 10000) == 1);
    CHECK((p.revents & POLLIN) != 0);
    CHECK(test::exit_code(test::wait_for(sender)) == 0);
    CHECK(poll(&w, 1, 0) == 0); // full now: not writable
    char buf[8];
    CHECK(ipc_mq_tryreceive(queue.q, buf, sizeof buf, nullptr) == 5);
    CHECK(poll(&p, 1, 0) == 0);
}

namespace {
volatile sig_atomic_t interruptions = 0;
void on_signal(int) { interruptions = interruptions + 1; }
} // namespace

TEST_CASE("a wait interrupted by a signal handler returns EINTR", "[mq][process]") {
    struct sigaction action {}, old{};
    action.sa_handler = on_signal; // no SA_RESTART
    sigemptyset(&action.sa_mask);
    REQUIRE(sigaction(SIGUSR1, &action, &old) == 0);
    Queue queue("intr", 1, 8);
    pid_t me = getpid();
    char buf[8];
    for (int form = 0; form < 4; ++form) {
        if (form >= 2)
            REQUIRE(ipc_mq_send(queue.q, "x", 1, 0) == 0); // full: sends block
        interruptions = 0;
        pid_t poker = test::spawn([&] {
            pause_ms(100);
            return kill(me, SIGUSR1) == 0 ? 0 : 1;
        });
        int rc = form == 0   ? ipc_mq_receive(queue.q, buf, sizeof buf, nullptr)
                 : form == 1 ? ipc_mq_timedreceive(queue.q, buf, sizeof buf, nullptr, 10.0)
                 : form == 2 ? ipc_mq_send(queue.q, "y", 1, 0)
                             : ipc_mq_timedsend(queue.q, "y", 1, 0, 10.0);
        CHECK(rc == -EINTR);
        CHECK(interruptions == 1);
        CHECK(test::exit_code(test::wait_for(poker)) == 0);
        if (form >= 2)
            REQUIRE(ipc_mq_receive(queue.q, buf, sizeof buf, nullptr) == 1);
    }
    sigaction(SIGUSR1, &old, nullptr);
}

TEST_CASE("a queue gets the mode asked for, whatever the umask", "[mq][process]") {
    mode_t mask = GENERATE(mode_t(022), mode_t(077));
    int status = test::under_umask(mask, [&] {
        int bad = 0;
        for (uint32_t mode : {0666u, 0640u, 0622u, 0u}) {
            std::string name = test::unique_name("mode");
            ipc_mq *q = nullptr;
            if (ipc_mq_create(&q, name.c_str(), 1, 8, mode, IPC_UNLINK_ON_CLOSE) != 0)
                return 10;
            struct stat st {};
            bad += fstat(ipc_mq_fd(q), &st) != 0 || (st.st_mode & 0777) != (mode ? mode : 0600u);
            ipc_mq_close(q);
        }
        return bad;
    });
    CHECK(test::exit_code(status) == 0);
}

TEST_CASE("queue permissions hold for an unprivileged user", "[mq][process]") {
    std::string name = test::unique_name("perm");
    ipc_mq *q = nullptr;
    REQUIRE(ipc_mq_create(&q, name.c_str(), 1, 8, 0604, IPC_UNLINK_ON_CLOSE) == 0);
    int status = test::as_nobody([&] {
        ipc_mq *other = nullptr;
        if (ipc_mq_open(&other, name.c_str(), IPC_WRONLY) != -EACCES || ipc_mq_open(&other, name.c_str(), 0) != -EACCES)
            return 1;
        if (ipc_mq_open(&other, name.c_str(), IPC_RDONLY) != 0)
            return 2;
        return ipc_mq_close(other);
    });
    CHECK(test::exit_code(status) == 0);
    ipc_mq_close(q);
}

TEST_CASE("defaults, open-or-create, directions and unlink-on-close", "[mq]") {
    std::string name = test::unique_name("life");
    ipc_mq *a = nullptr, *b = nullptr, *c = nullptr;
    REQUIRE(ipc_mq_create(&a, name.c_str(), 0, 0, 0, IPC_OPEN_OR_CREATE) == 0);
    CHECK(ipc_mq_capacity(a) == proc_limit("msg_default"));
    CHECK(ipc_mq_msgsize(a) == proc_limit("msgsize_default"));
    REQUIRE(ipc_mq_create(&b, name.c_str(), 1, 8, 0, IPC_OPEN_OR_CREATE) == 0); // opened as it is
    CHECK(ipc_mq_capacity(b) == ipc_mq_capacity(a));
    REQUIRE(ipc_mq_send(b, "hi", 2, 0) == 0);
    CHECK(ipc_mq_count(a) == 1);
    std::string small = test::unique_name("small");
    REQUIRE(ipc_mq_create(&c, small.c_str(), 2, 8, 0, IPC_UNLINK_ON_CLOSE) == 0);
    ipc_mq *d = nullptr;
    CHECK(ipc_mq_create(&d, small.c_str(), 3, 8, 0, IPC_OPEN_OR_CREATE) == -EINVAL);
    CHECK(mentions("less than"));
    CHECK(ipc_mq_create(&d, small.c_str(), 2, 9, 0, IPC_OPEN_OR_CREATE) == -EINVAL);
    ipc_mq_close(c);
    c = nullptr;
    CHECK(ipc_mq_create(&c, name.c_str(), 1, 8, 0, 0) == -EEXIST);
    CHECK(c == nullptr);
    ipc_mq_close(b);

    // Directions: a read-only handle cannot send, a write-only one cannot receive.
    std::vector<char> buf(static_cast<size_t>(ipc_mq_msgsize(a)));
    REQUIRE(ipc_mq_open(&b, name.c_str(), IPC_RDONLY) == 0);
    REQUIRE(ipc_mq_open(&c, name.c_str(), IPC_WRONLY) == 0);
    CHECK(ipc_mq_send(b, "x", 1, 0) == -EBADF);
    CHECK(mentions("receiving only"));
    CHECK(ipc_mq_trysend(b, "x", 1, 0) == -EBADF);
    CHECK(ipc_mq_timedsend(b, "x", 1, 0, 1.0) == -EBADF);
    CHECK(ipc_mq_receive(c, buf.data(), buf.size(), nullptr) == -EBADF);
    CHECK(mentions("sending only"));
    CHECK(ipc_mq_tryreceive(c, buf.data(), buf.size(), nullptr) == -EBADF);
    CHECK(ipc_mq_timedreceive(c, buf.data(), buf.size(), nullptr, 1.0) == -EBADF);
    CHECK(ipc_mq_count(c) == 1);
    CHECK(ipc_mq_tryreceive(b, buf.data(), buf.size(), nullptr) == 2);
    ipc_mq_close(b);
    ipc_mq_close(c);
    ipc_mq_close(a);
    REQUIRE(ipc_mq_unlink(name.c_str()) == 0);
    CHECK(ipc_mq_unlink(name.c_str()) == -ENOENT);
    CHECK(ipc_mq_open(&a, name.c_str(), 0) == -ENOENT);

    // The creator's unlink-on-close removes the name; other handles keep working.
    REQUIRE(ipc_mq_create(&a, name.c_str(), 2, 8, 0, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_mq_open(&b, name.c_str(), 0) == 0);
    ipc_mq_close(a);
    CHECK(ipc_mq_open(&c, name.c_str(), 0) == -ENOENT);
    CHECK(ipc_mq_send(b, "still", 5, 0) == 0);
    ipc_mq_close(b);

    // It leaves alone a queue that took the name after ours was unlinked.
    REQUIRE(ipc_mq_create(&a, name.c_str(), 2, 8, 0, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_mq_unlink(name.c_str()) == 0);
    REQUIRE(ipc_mq_create(&b, name.c_str(), 2, 8, 0, 0) == 0);
    ipc_mq_close(a);
    REQUIRE(ipc_mq_open(&c, name.c_str(), 0) == 0);
    ipc_mq_close(c);
    ipc_mq_close(b);
    REQUIRE(ipc_mq_unlink(name.c_str()) == 0);
}

TEST_CASE("processes racing to open-or-create share one queue", "[mq][process]") {
    std::string name = test::unique_name("race");
    std::vector<pid_t> racers;
    for (int k = 0; k < 4; ++k)
        racers.push_back(test::spawn([&] {
            ipc_mq *q = nullptr;
            if (ipc_mq_create(&q, name.c_str(), 4, 8, 0600, IPC_OPEN_OR_CREATE) != 0)
                return 1;
            int rc = ipc_mq_send(q, "here", 4, 0);
            return ipc_mq_close(q) | (rc ? 2 : 0);
        }));
    for (pid_t pid : racers)
        CHECK(test::exit_code(test::wait_for(pid)) == 0);
    ipc_mq *q = nullptr;
    REQUIRE(ipc_mq_open(&q, name.c_str(), IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_mq_count(q) == 4);
    ipc_mq_close(q);
}

TEST_CASE("sizes beyond the system limits are EINVAL naming the limit", "[mq][errors]") {
    std::string name = test::unique_name("limits");
    ipc_mq *q = nullptr;
    CHECK(ipc_mq_create(&q, name.c_str(), proc_limit("msg_max") + 1, 8, 0, 0) == -EINVAL);
    CHECK(mentions("/proc/sys/fs/mqueue/msg_max"));
    CHECK(ipc_mq_create(&q, name.c_str(), 1, proc_limit("msgsize_max") + 1, 0, 0) == -EINVAL);
    CHECK(mentions("/proc/sys/fs/mqueue/msgsize_max"));
    CHECK(ipc_mq_create(&q, name.c_str(), INT64_MAX, 8, 0, 0) == -EINVAL);
    CHECK(ipc_mq_create(&q, name.c_str(), -1, 8, 0, 0) == -EINVAL);
    CHECK(mentions("negative"));
    CHECK(ipc_mq_create(&q, name.c_str(), 1, -8, 0, 0) == -EINVAL);
    CHECK(ipc_mq_create(&q, name.c_str(), proc_limit("msg_max"), proc_limit("msgsize_max"), 0,
                        IPC_UNLINK_ON_CLOSE) == 0);
    ipc_mq_close(q);

    // The per-user memory limit for queues.
    int status = test::in_child([&] {
        rlimit tiny{1024, 1024};
        if (setrlimit(RLIMIT_MSGQUEUE, &tiny) != 0)
            return 1;
        ipc_mq *small = nullptr;
        if (ipc_mq_create(&small, name.c_str(), 4, 1024, 0, IPC_UNLINK_ON_CLOSE) != -EMFILE)
            return 2;
        return mentions("RLIMIT_MSGQUEUE") ? 0 : 3;
    });
    CHECK(test::exit_code(status) == 0);
}

TEST_CASE("bad input to message queues gets its exact code", "[mq][errors]") {
    ipc_mq *q = reinterpret_cast<ipc_mq *>(0x1);
    CHECK(ipc_mq_create(nullptr, "/x", 1, 8, 0, 0) == -EINVAL);
    CHECK(mentions("out-parameter is NULL"));
    CHECK(ipc_mq_create(&q, nullptr, 1, 8, 0, 0) == -EINVAL);
    CHECK(q == nullptr);
    CHECK(mentions("name is NULL"));
    CHECK(ipc_mq_open(nullptr, "/x", 0) == -EINVAL);
    CHECK(ipc_mq_open(&q, nullptr, 0) == -EINVAL);
    CHECK(ipc_mq_unlink(nullptr) == -EINVAL);
    for (const char *bad : {"", "queue", "/", "/a/b", "/.."}) {
        CHECK(ipc_mq_create(&q, bad, 1, 8, 0, 0) == -EINVAL);
        CHECK(ipc_mq_open(&q, bad, 0) == -EINVAL);
        CHECK(ipc_mq_unlink(bad) == -EINVAL);
    }
    std::string too_long = "/" + std::string(256, 'n');
    CHECK(ipc_mq_create(&q, too_long.c_str(), 1, 8, 0, 0) == -EINVAL);
    CHECK(mentions("at most 255"));
    std::string name = test::unique_name("bad");
    CHECK(ipc_mq_create(&q, name.c_str(), 1, 8, 01000, 0) == -EINVAL);
    CHECK(ipc_mq_create(&q, name.c_str(), 1, 8, 0, IPC_RDONLY) == -EINVAL);
    CHECK(ipc_mq_create(&q, name.c_str(), 1, 8, 0, 0x100) == -EINVAL);
    CHECK(ipc_mq_open(&q, name.c_str(), IPC_OPEN_OR_CREATE) == -EINVAL);
    CHECK(ipc_mq_open(&q, name.c_str(), IPC_RDONLY | IPC_WRONLY) == -EINVAL);
    CHECK(mentions("exclude each other"));
    CHECK(ipc_mq_open(&q, name.c_str(), 0) == -ENOENT);
    CHECK(mentions(name.c_str()));
    CHECK(ipc_mq_unlink(name.c_str()) == -ENOENT);

    REQUIRE(ipc_mq_create(&q, name.c_str(), 2, 8, 0, IPC_UNLINK_ON_CLOSE) == 0);
    char buf[16];
    const uint32_t too_high = ipc_mq_priority_max() + 1;
    CHECK(ipc_mq_send(q, "123456789", 9, 0) == -EMSGSIZE);
    CHECK(mentions("longer than the queue's 8-byte maximum"));
    CHECK(ipc_mq_trysend(q, "123456789", 9, 0) == -EMSGSIZE);
    CHECK(ipc_mq_timedsend(q, "123456789", 9, 0, 1.0) == -EMSGSIZE);
    CHECK(ipc_mq_send(q, "x", 1, too_high) == -EINVAL);
    CHECK(mentions("priority"));
    CHECK(ipc_mq_trysend(q, "x", 1, too_high) == -EINVAL);
    CHECK(ipc_mq_timedsend(q, "x", 1, too_high, 1.0) == -EINVAL);
    CHECK(ipc_mq_send(q, nullptr, 1, 0) == -EINVAL);
    CHECK(mentions("NULL"));
    CHECK(ipc_mq_trysend(q, nullptr, 1, 0) == -EINVAL);
    CHECK(ipc_mq_timedsend(q, nullptr, 1, 0, 1.0) == -EINVAL);
    CHECK(ipc_mq_receive(q, buf, 7, nullptr) == -EMSGSIZE);
    CHECK(mentions("smaller than the queue's message size"));
    CHECK(ipc_mq_tryreceive(q, buf, 7, nullptr) == -EMSGSIZE);
    CHECK(ipc_mq_timedreceive(q, buf, 7, nullptr, 1.0) == -EMSGSIZE);
    CHECK(ipc_mq_receive(q, nullptr, 8, nullptr) == -EINVAL);
    CHECK(ipc_mq_tryreceive(q, nullptr, 8, nullptr) == -EINVAL);
    CHECK(ipc_mq_timedreceive(q, nullptr, 8, nullptr, 1.0) == -EINVAL);
    for (double seconds : {double(NAN), -1.0, -double(INFINITY)}) {
        CHECK(ipc_mq_timedsend(q, "x", 1, 0, seconds) == -EINVAL);
        CHECK(ipc_mq_timedreceive(q, buf, sizeof buf, nullptr, seconds) == -EINVAL);
    }
    CHECK(ipc_mq_count(q) == 0); // nothing bad was sent
    REQUIRE(ipc_mq_close(q) == 0);

    // NULL, closed and wrong-kind handles.
    ipc_shm *shm = nullptr;
    std::string shm_name = test::unique_name("kind");
    REQUIRE(ipc_shm_create(&shm, shm_name.c_str(), 64, 0, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_mq_close(nullptr) == 0);
    for (ipc_mq *h : {static_cast<ipc_mq *>(nullptr), q, reinterpret_cast<ipc_mq *>(shm)}) {
        CHECK(ipc_mq_send(h, "x", 1, 0) == -EBADF);
        CHECK(ipc_mq_trysend(h, "x", 1, 0) == -EBADF);
        CHECK(ipc_mq_timedsend(h, "x", 1, 0, 1.0) == -EBADF);
        CHECK(ipc_mq_receive(h, buf, sizeof buf, nullptr) == -EBADF);
        CHECK(ipc_mq_tryreceive(h, buf, sizeof buf, nullptr) == -EBADF);
        CHECK(ipc_mq_timedreceive(h, buf, sizeof buf, nullptr, 1.0) == -EBADF);
        CHECK(ipc_mq_capacity(h) == -EBADF);
        CHECK(ipc_mq_msgsize(h) == -EBADF);
        CHECK(ipc_mq_count(h) == -EBADF);
        CHECK(ipc_mq_fd(h) == -EBADF);
        if (h)
            CHECK(ipc_mq_close(h) == -EBADF);
    }
    CHECK(mentions("not a live ipc_mq handle"));
    ipc_shm_close(shm);
}
