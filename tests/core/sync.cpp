// The lock header and named-object creation, seen from the core.
#include "../catch.hpp"
#include "../support.hpp"

#include "common.hpp"
#include "shm.hpp"
#include "sync.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>
#include <vector>

namespace {

using test::error_of;
using test::message_of;

// 8-aligned scratch memory, as a mapping would be.
struct Scratch {
    std::vector<uint64_t> words = std::vector<uint64_t>(64, 0);
    void *addr() { return words.data(); }
    ipc::SyncHeader &header() { return *reinterpret_cast<ipc::SyncHeader *>(words.data()); }
};

} // namespace

TEST_CASE("a lock header that is not marked ready is rejected with EBADMSG", "[sync]") {
    Scratch memory;
    auto mutex = ipc::Mutex::init(memory.addr(), 512, 0);
    CHECK(memory.header().magic == ipc::SyncHeader::magic_value);
    CHECK(memory.header().kind == uint32_t(ipc::SyncKind::mutex));
    CHECK(memory.header().state.load() == ipc::SyncHeader::ready);

    // An initialiser that stopped before the end: everything but the state.
    memory.header().state.store(0);
    CHECK(error_of([&] { ipc::Mutex::attach(memory.addr(), 512); }) == EBADMSG);
    CHECK(message_of([&] { ipc::Mutex::attach(memory.addr(), 512); }).find("never finished initialising") !=
          std::string::npos);
    memory.header().state.store(ipc::SyncHeader::ready);
    CHECK(error_of([&] { ipc::Mutex::attach(memory.addr(), 512); }) == 0);

    // A lock written by a build whose pthread object has another size.
    memory.header().object_size += 8;
    CHECK(error_of([&] { ipc::Mutex::attach(memory.addr(), 512); }) == EBADMSG);
    memory.header().object_size -= 8;

    memory.header().kind = 77;
    CHECK(message_of([&] { ipc::Cond::attach(memory.addr(), 512); }).find("unknown kind 77") != std::string::npos);
}

TEST_CASE("sizes are header plus object", "[sync]") {
    CHECK(ipc::Mutex::size() == sizeof(ipc::SyncHeader) + sizeof(pthread_mutex_t));
    CHECK(ipc::Cond::size() == sizeof(ipc::SyncHeader) + sizeof(ipc::CondState));
    CHECK(ipc::RwLock::size() == sizeof(ipc::SyncHeader) + sizeof(pthread_rwlock_t));
}

TEST_CASE("a creator killed in the middle of initialising leaves no name behind", "[sync][process]") {
    std::string name = test::unique_name("killed");
    // The same path Mutex::create takes, with a creator that dies inside the
    // Init callback after writing half a header.
    int status = test::in_child([&] {
        ipc::SharedMemory::create(name, ipc::Mutex::size(), 0600, 0, [](void *addr, size_t) {
            static_cast<ipc::SyncHeader *>(addr)->magic = ipc::SyncHeader::magic_value;
            raise(SIGKILL);
        });
        return 1;
    });
    CHECK(test::exit_code(status) == -SIGKILL);
    CHECK(error_of([&] { ipc::Mutex::open(name); }) == ENOENT);
    // So the name is free for the next creator.
    auto mutex = ipc::Mutex::create(name, 0600, ipc::unlink_on_close);
    CHECK(mutex.lock() == 0);
    mutex.unlock();
}

TEST_CASE("a moved mutex keeps its lock and its spin", "[sync]") {
    Scratch memory;
    auto first = ipc::Mutex::init(memory.addr(), 512, 0);
    first.set_spin(1000);
    ipc::Mutex second(std::move(first));
    CHECK(second.lock() == 0);
    CHECK(second.trylock() == EAGAIN);
    second.unlock();
    CHECK(error_of([&] { second.unlock(); }) == EPERM);
}
