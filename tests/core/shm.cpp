// The core's parsing and validation rules, without the C layer.
#include "../catch.hpp"
#include "../support.hpp"

#include "common.hpp"
#include "shm.hpp"

#include <cerrno>
#include <cmath>
#include <system_error>

using test::message_of;
constexpr auto code_of = test::error_of;

TEST_CASE("addresses parse into their four forms", "[core][shm]") {
    using Kind = ipc::ShmAddress::Kind;
    CHECK(ipc::ShmAddress::parse("/frames").kind == Kind::posix);
    CHECK(ipc::ShmAddress::parse("/frames").name == "/frames");
    CHECK(ipc::ShmAddress::parse("private").kind == Kind::private_segment);
    auto key = ipc::ShmAddress::parse("key:0x1234");
    CHECK(key.kind == Kind::key);
    CHECK(key.key == 0x1234);
    CHECK(ipc::ShmAddress::parse("key:4660").key == 0x1234);
    CHECK(ipc::ShmAddress::parse("key:0xffffffff").key == -1);
    CHECK(ipc::ShmAddress::parse("key:-5").key == -5);
    auto id = ipc::ShmAddress::parse("shmid:42");
    CHECK(id.kind == Kind::id);
    CHECK(id.id == 42);
}

TEST_CASE("bad addresses are EINVAL with the rule that broke", "[core][shm]") {
    auto parse = [](const char *text) { return [text] { ipc::ShmAddress::parse(text); }; };
    CHECK(code_of(parse("")) == EINVAL);
    CHECK(code_of(parse("frames")) == EINVAL);
    CHECK(message_of(parse("frames")).find("must start with '/'") != std::string::npos);
    CHECK(code_of(parse("/")) == EINVAL);
    CHECK(code_of(parse("/a/b")) == EINVAL);
    CHECK(message_of(parse("/a/b")).find("no '/'") != std::string::npos);
    CHECK(code_of(parse("/..")) == EINVAL);
    std::string long_name = "/" + std::string(256, 'x');
    CHECK(code_of([&] { ipc::ShmAddress::parse(long_name); }) == EINVAL);
    CHECK(message_of([&] { ipc::ShmAddress::parse(long_name); }).find("at most 255") != std::string::npos);
    CHECK(code_of([&] { ipc::ShmAddress::parse("/" + std::string(255, 'x')); }) == 0);
    CHECK(code_of(parse("key:")) == EINVAL);
    CHECK(code_of(parse("key:12ab")) == EINVAL);
    CHECK(code_of(parse("key:0")) == EINVAL);
    CHECK(code_of(parse("key:0x100000000")) == EINVAL);
    CHECK(code_of(parse("key:99999999999999999999999")) == EINVAL);
    CHECK(code_of(parse("shmid:-1")) == EINVAL);
    CHECK(code_of(parse("shmid:x")) == EINVAL);
    CHECK(code_of(parse("shmid:3000000000")) == EINVAL);
    CHECK(message_of(parse("shmid:x")).find("not a decimal") != std::string::npos);
}

TEST_CASE("creation modes keep owner read/write and reject other bits", "[core]") {
    CHECK(ipc::creation_mode(0) == 0600);
    CHECK(ipc::creation_mode(0644) == 0644);
    CHECK(ipc::creation_mode(0004) == 0604);
    CHECK(code_of([] { ipc::creation_mode(01777); }) == EINVAL);
}

TEST_CASE("deadlines validate timeouts", "[core]") {
    CHECK(code_of([] { ipc::Deadline(-1.0); }) == EINVAL);
    CHECK(code_of([] { ipc::Deadline(NAN); }) == EINVAL);
    CHECK(ipc::Deadline(INFINITY).infinite());
    CHECK(ipc::Deadline(0.0).expired());
    ipc::Deadline later(10.0);
    CHECK_FALSE(later.expired());
    CHECK(later.remaining() > 9.0);
    CHECK(later.remaining() <= 10.0);
}

TEST_CASE("an unlink-on-close handle removes only its own object", "[core][shm]") {
    std::string name = test::unique_name("core");
    {
        auto first = ipc::SharedMemory::create(name, 64, 0600, ipc::unlink_on_close);
        ipc::SharedMemory::unlink(name);
        auto second = ipc::SharedMemory::create(name, 64, 0600, 0);
        // first closes here and must leave second's name alone
    }
    CHECK(code_of([&] { ipc::SharedMemory::open(name, 0); }) == 0);
    ipc::SharedMemory::unlink(name);
}

TEST_CASE("bounded spinning stops when ready or when time is up", "[core]") {
    int polls = 0;
    CHECK(ipc::spin_until(0, [&] { return ++polls == 1; }));
    polls = 0;
    CHECK_FALSE(ipc::spin_until(0, [&] { return ++polls > 5; }));
    CHECK(polls == 1);
    polls = 0;
    CHECK(ipc::spin_until(1'000'000'000, [&] { return ++polls == 100; }));
    CHECK(polls == 100);
    int64_t start = ipc::monotonic_ns();
    CHECK_FALSE(ipc::spin_until(1'000'000, [] { return false; }));
    CHECK(ipc::monotonic_ns() - start >= 1'000'000);
}
