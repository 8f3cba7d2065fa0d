// The message queue core without the C layer: limits, moves, messages.
#include "../catch.hpp"
#include "../support.hpp"

#include "common.hpp"
#include "mq.hpp"

#include <cerrno>
#include <fstream>
#include <system_error>

namespace {

int64_t proc_value(const char *file) {
    std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
    int64_t value = -1;
    in >> value;
    return value;
}

} // namespace

TEST_CASE("queue limits are read from /proc/sys/fs/mqueue", "[core][mq]") {
    ipc::MqLimits limits = ipc::MqLimits::read();
    CHECK(limits.msg_max == proc_value("msg_max"));
    CHECK(limits.msgsize_max == proc_value("msgsize_max"));
    CHECK(limits.msg_default == proc_value("msg_default"));
    CHECK(limits.msgsize_default == proc_value("msgsize_default"));
    CHECK(ipc::MessageQueue::priority_max() == MQ_PRIO_MAX - 1);
}

TEST_CASE("a moved queue is closed and unlinked once", "[core][mq]") {
    std::string name = test::unique_name("core-mq");
    auto q = ipc::MessageQueue::create(name, 2, 16, 0, ipc::unlink_on_close);
    CHECK(q.created());
    CHECK(q.name() == name);
    int fd = q.fd();
    ipc::MessageQueue moved = std::move(q);
    CHECK(moved.fd() == fd);
    CHECK(moved.capacity() == 2);
    CHECK(moved.msgsize() == 16);
    moved.send("abc", 3, 1);
    char buf[16];
    uint32_t priority = 0;
    CHECK(moved.receive(buf, sizeof buf, &priority) == 3);
    CHECK(priority == 1);
    moved = ipc::MessageQueue::open(name, ipc::rdonly); // the old handle's close unlinks
    CHECK(moved.capacity() == 2);
    try {
        ipc::MessageQueue::open(name, 0);
        FAIL("the name should be gone");
    } catch (const std::system_error &e) {
        CHECK(e.code().value() == ENOENT);
    }
}

TEST_CASE("limit errors name the limit and the file", "[core][mq]") {
    std::string name = test::unique_name("core-mq");
    try {
        ipc::MessageQueue::create(name, 1, ipc::MqLimits::read().msgsize_max + 1, 0, 0);
        FAIL("created beyond msgsize_max");
    } catch (const std::system_error &e) {
        CHECK(e.code().value() == EINVAL);
        CHECK(std::string(e.what()).find("beyond the system limit of") != std::string::npos);
        CHECK(std::string(e.what()).find("/proc/sys/fs/mqueue/msgsize_max") != std::string::npos);
    }
}
