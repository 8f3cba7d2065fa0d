// Shared memory through the public C API, across processes.
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

std::string address_of(const ipc_shm *shm) {
    char buf[IPC_ADDRESS_MAX];
    REQUIRE(ipc_shm_address(shm, buf, sizeof buf) > 0);
    return buf;
}

std::string key_address(int32_t key) { return "key:" + std::to_string(key); }

bool mentions(const char *text) { return std::string(ipc_last_error()).find(text) != std::string::npos; }

} // namespace

TEST_CASE("a child writes through its own mapping and the parent sees it", "[shm][process]") {
    auto address = GENERATE(as<std::string>{}, "posix", "key", "private");
    std::string create_at = address == "posix" ? test::unique_name("shm")
                            : address == "key" ? key_address(test::unique_key())
                                               : "private";
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, create_at.c_str(), 4096, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_shm_size(shm) == 4096);
    auto *mine = static_cast<volatile char *>(ipc_shm_addr(shm));
    REQUIRE(mine != nullptr);
    CHECK(mine[0] == 0); // new memory reads as zeros

    // The child opens by the handle's address, and for a key also by the key.
    std::string open_at = address_of(shm);
    if (address == "posix")
        CHECK(open_at == create_at);
    else
        CHECK(open_at.rfind("shmid:", 0) == 0);
    for (const std::string &at : {open_at, address == "key" ? create_at : open_at}) {
        int status = test::in_child([&] {
            ipc_shm *theirs = nullptr;
            if (ipc_shm_open(&theirs, at.c_str(), 0) != 0)
                return 1;
            std::strcpy(static_cast<char *>(ipc_shm_addr(theirs)), "hello from the child");
            return ipc_shm_close(theirs) == 0 ? 0 : 2;
        });
        REQUIRE(test::exit_code(status) == 0);
        CHECK(std::string(const_cast<char *>(mine)) == "hello from the child");
        mine[0] = 0;
    }
    REQUIRE(ipc_shm_close(shm) == 0);
    CHECK(ipc_shm_open(&shm, open_at.c_str(), 0) == -ENOENT);
}

TEST_CASE("a child writing to a read-only mapping dies with SIGSEGV", "[shm][process]") {
    std::string name = test::unique_name("ro");
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 100, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    static_cast<char *>(ipc_shm_addr(shm))[0] = 'x';
    for (const std::string &at : {name, address_of(shm)}) {
        int status = test::in_child([&] {
            ipc_shm *ro = nullptr;
            if (ipc_shm_open(&ro, at.c_str(), IPC_RDONLY) != 0 || ipc_shm_readonly(ro) != 1)
                return 1;
            auto *p = static_cast<volatile char *>(ipc_shm_addr(ro));
            if (p[0] != 'x')
                return 2;
            p[0] = 'y'; // must fault
            return 3;
        });
        CHECK(test::exit_code(status) == -SIGSEGV);
    }
    ipc_shm_close(shm);

    int32_t key = test::unique_key();
    REQUIRE(ipc_shm_create(&shm, key_address(key).c_str(), 100, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    int status = test::in_child([&] {
        ipc_shm *ro = nullptr;
        if (ipc_shm_open(&ro, key_address(key).c_str(), IPC_RDONLY) != 0)
            return 1;
        static_cast<volatile char *>(ipc_shm_addr(ro))[0] = 'y';
        return 3;
    });
    CHECK(test::exit_code(status) == -SIGSEGV);
    ipc_shm_close(shm);
}

TEST_CASE("the mode asked for is the mode the object gets, whatever the umask", "[shm][process]") {
    mode_t mask = GENERATE(mode_t(022), mode_t(077));
    int status = test::in_child([&] {
        umask(mask);
        std::string name = test::unique_name("mode");
        int32_t key = test::unique_key();
        int bad = 0;
        for (const std::string &at : {name, key_address(key)}) {
            for (uint32_t mode : {0666u, 0640u, 0u}) {
                ipc_shm *shm = nullptr;
                if (ipc_shm_create(&shm, at.c_str(), 64, mode, IPC_UNLINK_ON_CLOSE) != 0)
                    return 10;
                ipc_shm_info info{};
                if (ipc_shm_fstat(shm, &info) != 0)
                    return 11;
                if (info.mode != (mode ? mode : 0600u))
                    ++bad;
                // Owner read/write are always kept.
                if (ipc_shm_chmod(shm, 0044) != 0 || ipc_shm_fstat(shm, &info) != 0 || info.mode != 0644u)
                    ++bad;
                ipc_shm_close(shm);
            }
        }
        return umask(0) == mask ? bad : 20; // the library never changed the umask
    });
    CHECK(test::exit_code(status) == 0);
}

TEST_CASE("permissions hold for an unprivileged user", "[shm][process]") {
    std::string name = test::unique_name("perm");
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 64, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    int status = test::as_nobody([&] {
        ipc_shm *other = nullptr;
        return ipc_shm_open(&other, name.c_str(), IPC_RDONLY) == -EACCES ? 0 : 1;
    });
    CHECK(test::exit_code(status) == 0);
    REQUIRE(ipc_shm_chmod(shm, 0644) == 0);
    status = test::as_nobody([&] {
        ipc_shm *other = nullptr;
        if (ipc_shm_open(&other, name.c_str(), 0) != -EACCES)
            return 1; // read-write still refused
        if (ipc_shm_open(&other, name.c_str(), IPC_RDONLY) != 0)
            return 2;
        return ipc_shm_close(other);
    });
    CHECK(test::exit_code(status) == 0);
    ipc_shm_close(shm);
}

TEST_CASE("segment information", "[shm]") {
    int32_t key = test::unique_key();
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, key_address(key).c_str(), 8192, 0640, IPC_UNLINK_ON_CLOSE) == 0);
    ipc_shm_info info{};
    REQUIRE(ipc_shm_fstat(shm, &info) == 0);
    CHECK(info.kind == IPC_SHM_SYSV);
    CHECK(info.size == 8192);
    CHECK(info.key == key);
    CHECK(info.cpid == getpid());
    CHECK(info.nattch == 1);
    CHECK(info.mode == 0640);
    CHECK(info.uid == getuid());
    CHECK(address_of(shm) == "shmid:" + std::to_string(info.id));
    ipc_shm_info by_address{};
    REQUIRE(ipc_shm_stat(key_address(key).c_str(), &by_address) == 0);
    CHECK(by_address.id == info.id);
    ipc_shm_close(shm);
    CHECK(ipc_shm_stat(key_address(key).c_str(), &by_address) == -ENOENT);

    std::string name = test::unique_name("info");
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 100, 0, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_shm_stat(name.c_str(), &info) == 0);
    CHECK(info.kind == IPC_SHM_POSIX);
    CHECK(info.size == 100);
    CHECK(info.mode == 0600);
    CHECK(info.id == -1);
    CHECK(info.nattch == -1);
    CHECK(ipc_shm_info_size() == sizeof(ipc_shm_info));
    ipc_shm_close(shm);
}

TEST_CASE("open-or-create and unlink-on-close", "[shm]") {
    std::string name = test::unique_name("ooc");
    ipc_shm *a = nullptr, *b = nullptr;
    REQUIRE(ipc_shm_create(&a, name.c_str(), 128, 0600, IPC_OPEN_OR_CREATE) == 0);
    REQUIRE(ipc_shm_create(&b, name.c_str(), 64, 0600, IPC_OPEN_OR_CREATE) == 0);
    static_cast<char *>(ipc_shm_addr(a))[5] = 42;
    CHECK(static_cast<char *>(ipc_shm_addr(b))[5] == 42);
    CHECK(ipc_shm_size(b) == 128);
    ipc_shm *c = nullptr;
    CHECK(ipc_shm_create(&c, name.c_str(), 256, 0600, IPC_OPEN_OR_CREATE) == -EINVAL);
    CHECK(mentions("fewer than"));
    ipc_shm_close(b);
    ipc_shm_close(a);
    REQUIRE(ipc_shm_unlink(name.c_str()) == 0);
    CHECK(ipc_shm_unlink(name.c_str()) == -ENOENT);

    // The creator's unlink-on-close removes the name, other mappings stay valid.
    REQUIRE(ipc_shm_create(&a, name.c_str(), 64, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_shm_open(&b, name.c_str(), 0) == 0);
    ipc_shm_close(a);
    CHECK(ipc_shm_open(&c, name.c_str(), 0) == -ENOENT);
    static_cast<char *>(ipc_shm_addr(b))[0] = 1;
    ipc_shm_close(b);

    int32_t key = test::unique_key();
    REQUIRE(ipc_shm_create(&a, key_address(key).c_str(), 64, 0600, IPC_OPEN_OR_CREATE) == 0);
    REQUIRE(ipc_shm_create(&b, key_address(key).c_str(), 64, 0600, IPC_OPEN_OR_CREATE) == 0);
    CHECK(address_of(a) == address_of(b));
    ipc_shm_close(b);
    ipc_shm_close(a);
    REQUIRE(ipc_shm_unlink(key_address(key).c_str()) == 0);
    CHECK(ipc_shm_unlink(key_address(key).c_str()) == -ENOENT);
}

TEST_CASE("ftok-style keys", "[shm]") {
    int32_t k1 = 0, k2 = 0;
    REQUIRE(ipc_shm_key("/", 1, &k1) == 0);
    REQUIRE(ipc_shm_key("/", 2, &k2) == 0);
    CHECK(k1 != k2);
    CHECK(ipc_shm_key("/no/such/file", 1, &k1) == -ENOENT);
    CHECK(ipc_shm_key("/", 0, &k1) == -EINVAL);
    CHECK(ipc_shm_key("/", 256, &k1) == -EINVAL);
    CHECK(ipc_shm_key(nullptr, 1, &k1) == -EINVAL);
    CHECK(ipc_shm_key("/", 1, nullptr) == -EINVAL);
}

TEST_CASE("bad input to shared memory gets its exact code", "[shm][errors]") {
    ipc_shm *shm = reinterpret_cast<ipc_shm *>(0x1);
    CHECK(ipc_shm_create(nullptr, "/x", 10, 0, 0) == -EINVAL);
    CHECK(mentions("out-parameter is NULL"));
    CHECK(ipc_shm_create(&shm, nullptr, 10, 0, 0) == -EINVAL);
    CHECK(shm == nullptr); // cleared on failure
    CHECK(mentions("address is NULL"));
    CHECK(ipc_shm_open(&shm, nullptr, 0) == -EINVAL);
    CHECK(ipc_shm_create(&shm, "", 10, 0, 0) == -EINVAL);
    CHECK(mentions("empty"));
    CHECK(ipc_shm_create(&shm, "frames", 10, 0, 0) == -EINVAL);
    CHECK(mentions("must start with '/'"));
    CHECK(ipc_shm_create(&shm, "/a/b", 10, 0, 0) == -EINVAL);
    CHECK(mentions("no '/'"));
    std::string too_long = "/" + std::string(256, 'n');
    CHECK(ipc_shm_create(&shm, too_long.c_str(), 10, 0, 0) == -EINVAL);
    CHECK(mentions("at most 255"));
    CHECK(ipc_shm_open(&shm, "key:junk", 0) == -EINVAL);
    CHECK(ipc_shm_open(&shm, "key:0x1ffffffff", 0) == -EINVAL);
    CHECK(mentions("out of range"));
    CHECK(ipc_shm_open(&shm, "shmid:", 0) == -EINVAL);
    CHECK(ipc_shm_open(&shm, "shmid:12x", 0) == -EINVAL);
    CHECK(ipc_shm_open(&shm, "shmid:99999999999", 0) == -EINVAL);
    CHECK(ipc_shm_open(&shm, "private", 0) == -EINVAL);
    CHECK(ipc_shm_create(&shm, "shmid:1", 10, 0, 0) == -EINVAL);
    std::string name = test::unique_name("bad");
    CHECK(ipc_shm_create(&shm, name.c_str(), 0, 0, 0) == -EINVAL);
    CHECK(mentions("size 0"));
    CHECK(ipc_shm_create(&shm, name.c_str(), SIZE_MAX, 0, 0) == -EINVAL);
    CHECK(ipc_shm_create(&shm, "private", SIZE_MAX, 0, 0) == -EINVAL);
    CHECK(ipc_shm_create(&shm, name.c_str(), 10, 01000, 0) == -EINVAL);
    CHECK(ipc_shm_create(&shm, name.c_str(), 10, 0, 0x100) == -EINVAL);
    CHECK(ipc_shm_open(&shm, name.c_str(), IPC_OPEN_OR_CREATE) == -EINVAL);
    CHECK(ipc_shm_open(&shm, name.c_str(), 0) == -ENOENT);
    CHECK(mentions(name.c_str()));
    CHECK(ipc_shm_open(&shm, "shmid:2147483647", 0) == -ENOENT);
    CHECK(ipc_shm_unlink(name.c_str()) == -ENOENT);
    CHECK(ipc_shm_unlink(nullptr) == -EINVAL);
    CHECK(ipc_shm_unlink("private") == -EINVAL);

    REQUIRE(ipc_shm_create(&shm, name.c_str(), 10, 0, IPC_UNLINK_ON_CLOSE) == 0);
    ipc_shm *again = nullptr;
    CHECK(ipc_shm_create(&again, name.c_str(), 10, 0, 0) == -EEXIST);
    CHECK(mentions("File exists"));
    char tiny[4];
    CHECK(ipc_shm_address(shm, tiny, sizeof tiny) == -ERANGE);
    CHECK(ipc_shm_address(shm, nullptr, 100) == -EINVAL);
    CHECK(ipc_shm_fstat(shm, nullptr) == -EINVAL);
    CHECK(ipc_shm_chmod(shm, 07777) == -EINVAL);
    REQUIRE(ipc_shm_close(shm) == 0);

    // NULL, closed and wrong-kind handles.
    CHECK(ipc_shm_close(nullptr) == 0);
    CHECK(ipc_shm_addr(nullptr) == nullptr);
    CHECK(mentions("NULL"));
    CHECK(ipc_shm_size(nullptr) == 0);
    CHECK(ipc_shm_readonly(nullptr) == -EBADF);
    CHECK(ipc_shm_close(shm) == -EBADF);
    CHECK(mentions("not a live ipc_shm handle"));
    CHECK(ipc_shm_addr(shm) == nullptr);
    CHECK(ipc_shm_size(shm) == 0);
    CHECK(ipc_shm_chmod(shm, 0600) == -EBADF);
    ipc_shm_info info{};
    CHECK(ipc_shm_fstat(shm, &info) == -EBADF);
    long not_a_handle[8] = {0x12345678};
    CHECK(ipc_shm_size(reinterpret_cast<ipc_shm *>(not_a_handle)) == 0);
    CHECK(ipc_shm_close(reinterpret_cast<ipc_shm *>(not_a_handle)) == -EBADF);
}

TEST_CASE("the common functions", "[common]") {
    int major = -1, minor = -1, patch = -1;
    ipc_version(&major, &minor, &patch);
    CHECK(major == IPC_VERSION_MAJOR);
    CHECK(minor == IPC_VERSION_MINOR);
    CHECK(patch == IPC_VERSION_PATCH);
    ipc_version(nullptr, nullptr, nullptr);
    CHECK(std::string(ipc_strerror(-ENOENT)) == "No such file or directory");
    CHECK(std::string(ipc_strerror(ENOENT)) == "No such file or directory");
    CHECK(std::string(ipc_strerror(0)) == "Success");
    CHECK(ipc_strerror(INT_MIN) != nullptr);
    CHECK(ipc_strerror(123456) != nullptr);
    CHECK(ipc_last_error() != nullptr);
    CHECK(ipc_page_size() == static_cast<size_t>(sysconf(_SC_PAGESIZE)));
}

TEST_CASE("a child that inherits an unlink-on-close handle leaves the name alone", "[shm][process]") {
    std::string name = test::unique_name("fork");
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 64, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    int status = test::in_child([&] { return ipc_shm_close(shm); });
    REQUIRE(test::exit_code(status) == 0);
    ipc_shm_info info{};
    CHECK(ipc_shm_stat(name.c_str(), &info) == 0); // still there
    REQUIRE(ipc_shm_close(shm) == 0);
    CHECK(ipc_shm_stat(name.c_str(), &info) == -ENOENT); // the creator removed it
}
