// Message queues: two-process round trips of a 64-byte message through two
// queues, libipc against raw mq_send/mq_receive, with a pipe pair for scale.
// Run: build/tools/bench/bench_mq [--quick] [--json] (see harness.hpp).
#include "harness.hpp"

#include <ipc.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mqueue.h>
#include <string>
#include <unistd.h>

namespace {

constexpr size_t msg_size = 64;

// Two one-way channels between the two processes: the parent sends on 0 and
// receives on 1, the peer receives on 0 and sends on 1. The creator (the
// parent, before the fork) makes the objects, the peer opens them.
struct Channel : bench::RoundTrip {
    virtual void send(int k, const char *msg) = 0;
    virtual void receive(int k, char *buf) = 0;
    char msg[msg_size] = {1}, buf[msg_size] = {};
    void ping() override {
        send(0, msg);
        receive(1, buf);
    }
    void pong() override {
        receive(0, buf);
        send(1, buf);
    }
};

bool pinned = false;

void die(const char *what, const char *why) {
    std::fprintf(stderr, "%s: %s\n", what, why);
    std::exit(1);
}

const pid_t parent = getpid(); // names the queues for the parent and its peer alike

std::string queue_name(const char *tag, int k) {
    return "/ipc-bench-mq-" + std::string(tag) + "-" + std::to_string(parent) + "-" + std::to_string(k);
}

struct Libipc : Channel {
    ipc_mq *q[2] = {};
    explicit Libipc(bool creator) {
        for (int k = 0; k < 2; ++k) {
            std::string name = queue_name("ipc", k);
            int rc = creator ? ipc_mq_create(&q[k], name.c_str(), 1, msg_size, 0600, IPC_UNLINK_ON_CLOSE)
                             : ipc_mq_open(&q[k], name.c_str(), 0);
            if (rc < 0)
                die("libipc queue", ipc_last_error());
        }
    }
    ~Libipc() override {
        ipc_mq_close(q[0]);
        ipc_mq_close(q[1]);
    }
    void send(int k, const char *msg) override { ipc_mq_send(q[k], msg, msg_size, 0); }
    void receive(int k, char *buf) override { ipc_mq_receive(q[k], buf, msg_size, nullptr); }
};

struct Raw : Channel {
    mqd_t q[2];
    bool creator;
    explicit Raw(bool made_here) : creator(made_here) {
        mq_attr attr{};
        attr.mq_maxmsg = 1;
        attr.mq_msgsize = msg_size;
        for (int k = 0; k < 2; ++k) {
            std::string name = queue_name("raw", k);
            q[k] = creator ? mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr)
                           : mq_open(name.c_str(), O_RDWR);
            if (q[k] == mqd_t(-1))
                die("mq_open", std::strerror(errno));
        }
    }
    ~Raw() override {
        for (int k = 0; k < 2; ++k) {
            mq_close(q[k]);
            if (creator)
                mq_unlink(queue_name("raw", k).c_str());
        }
    }
    void send(int k, const char *msg) override {
        while (mq_send(q[k], msg, msg_size, 0) != 0) {
        }
    }
    void receive(int k, char *buf) override {
        unsigned priority;
        while (mq_receive(q[k], buf, msg_size, &priority) < 0) {
        }
    }
};

// Two pipes, made before the fork and shared by it: the byte-stream
// alternative, for scale.
struct Pipes : Channel {
    static int fds[2][2];
    explicit Pipes(bool creator) {
        if (creator && (pipe(fds[0]) != 0 || pipe(fds[1]) != 0))
            die("pipe", std::strerror(errno));
    }
    ~Pipes() override {
        for (auto &p : fds)
            for (int fd : p)
                close(fd);
    }
    void send(int k, const char *msg) override {
        if (write(fds[k][1], msg, msg_size) != static_cast<ssize_t>(msg_size))
            die("write", std::strerror(errno));
    }
    void receive(int k, char *buf) override {
        for (size_t got = 0; got < msg_size;) {
            ssize_t r = read(fds[k][0], buf + got, msg_size - got);
            if (r <= 0)
                die("read", std::strerror(errno));
            got += static_cast<size_t>(r);
        }
    }
};
int Pipes::fds[2][2];

bench::Contender contender(std::string name, bench::Kind kind, std::function<std::unique_ptr<Channel>(bool)> open) {
    return bench::round_trip(std::move(name), kind, pinned,
                             [open = std::move(open)](char *, bool creator) { return open(creator); });
}

} // namespace

int main(int argc, char **argv) {
    bench::Harness h("mq", argc, argv);
    using bench::Kind;
    pinned = h.options().pin && bench::pin(0);
    const std::string where = pinned ? "the two processes pinned to two CPUs" : "processes not pinned";

    h.note("round trip = send + receive of 64 bytes on each side, queues of capacity 1; " + where);
    h.run("round trip of a 64-byte message through 2 queues",
          {
              contender("libipc", Kind::ours, [](bool c) { return std::make_unique<Libipc>(c); }),
              contender("raw mq_send/mq_receive", Kind::alternative, [](bool c) { return std::make_unique<Raw>(c); }),
              contender("pipe pair", Kind::reference, [](bool c) { return std::make_unique<Pipes>(c); }),
          },
          {{"libipc", "raw mq_send/mq_receive", 1.05}});
    return h.finish();
}
