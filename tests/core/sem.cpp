// The core's checks for semaphores placed in memory, without the C layer.
#include "../catch.hpp"
#include "../support.hpp"

#include "common.hpp"
#include "sem.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

namespace {

std::string failure(const std::function<void()> &body) {
    try {
        body();
    } catch (const std::system_error &e) {
        return std::to_string(e.code().value()) + " " + e.what();
    }
    return "";
}

} // namespace

TEST_CASE("check_room rejects NULL, misaligned and short memory", "[core][sem]") {
    alignas(16) unsigned char memory[64];
    CHECK(failure([&] { ipc::check_room(memory, 64, 64, 16, "thing"); }).empty());
    CHECK(failure([&] { ipc::check_room(nullptr, 64, 8, 8, "thing"); }) ==
          std::to_string(EINVAL) + " thing: the address is NULL: Invalid argument");
    CHECK(failure([&] { ipc::check_room(memory + 8, 56, 8, 16, "thing"); }).find("not aligned to 16 bytes") !=
          std::string::npos);
    CHECK(failure([&] { ipc::check_room(memory, 63, 64, 16, "thing"); }).find("63 bytes available, 64 needed") !=
          std::string::npos);
}

TEST_CASE("a moved semaphore keeps its spin and its sem_t", "[core][sem]") {
    alignas(64) unsigned char memory[64] = {};
    ipc::Semaphore a = ipc::Semaphore::init(memory, sizeof memory, 1);
    a.set_spin(1234);
    ipc::Semaphore b = std::move(a);
    CHECK(b.spin() == 1234);
    CHECK(b.get() == reinterpret_cast<sem_t *>(memory));
    CHECK(b.created());
    CHECK_FALSE(b.named());
    CHECK(b.try_wait());
    CHECK_FALSE(b.try_wait());
}

TEST_CASE("attach tells a process-shared semaphore from other memory", "[core][sem]") {
    alignas(64) unsigned char memory[64];
    for (int fill : {0x00, 0xff}) {
        std::memset(memory, fill, sizeof memory);
        CHECK(failure([&] { ipc::Semaphore::attach(memory, sizeof memory); }).rfind(std::to_string(EINVAL), 0) == 0);
    }
    std::memset(memory, 0xab, sizeof memory); // sem_init writes only what it needs
    REQUIRE(sem_init(reinterpret_cast<sem_t *>(memory), 1, 5) == 0);
    CHECK(ipc::Semaphore::attach(memory, sizeof memory).value() == 5);
}
