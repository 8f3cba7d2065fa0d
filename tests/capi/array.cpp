// Shared arrays through the public C API, across processes.
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

bool mentions(const char *text) { return std::string(ipc_last_error()).find(text) != std::string::npos; }

std::string address_of(const ipc_array *arr) {
    char buf[IPC_ADDRESS_MAX];
    REQUIRE(ipc_array_address(arr, buf, sizeof buf) > 0);
    return buf;
}

// Where to create an array of each address form.
std::string creation_address(const std::string &form) {
    if (form == "posix")
        return test::unique_name("array");
    if (form == "key")
        return "key:" + std::to_string(test::unique_key());
    return "private";
}

// The value stored at (i, j, k) by whoever fills an array: every element distinct.
double parent_value(int64_t i, int64_t j, int64_t k) { return double(i) + 10.0 * double(j) + 100.0 * double(k) + 0.5; }
double child_value(int64_t i, int64_t j, int64_t k) { return -parent_value(i, j, k); }

// Column-major: the first index varies fastest.
template <class F> void each(const int64_t *dims, F &&f) {
    for (int64_t k = 0; k < dims[2]; ++k)
        for (int64_t j = 0; j < dims[1]; ++j)
            for (int64_t i = 0; i < dims[0]; ++i)
                f(i + dims[0] * (j + dims[1] * k), i, j, k);
}

// Bytes of the header region of an array's object, through a shared memory handle.
struct Raw {
    ipc_shm *shm = nullptr;
    explicit Raw(const std::string &address) { REQUIRE(ipc_shm_open(&shm, address.c_str(), 0) == 0); }
    ~Raw() { ipc_shm_close(shm); }
    uint8_t *bytes() const { return static_cast<uint8_t *>(ipc_shm_addr(shm)); }
};

template <class T> void put(uint8_t *at, T value) { std::memcpy(at, &value, sizeof value); }

} // namespace

TEST_CASE("a child fills an array and the parent sees every element", "[array][process]") {
    auto form = GENERATE(as<std::string>{}, "posix", "key", "private");
    std::string create_at = creation_address(form);
    const int64_t dims[3] = {5, 4, 3};
    ipc_array *arr = nullptr;
    REQUIRE(ipc_array_create(&arr, create_at.c_str(), IPC_FLOAT64, 3, dims, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    auto *mine = static_cast<volatile double *>(ipc_array_data(arr));
    each(dims, [&](int64_t n, int64_t i, int64_t j, int64_t k) { mine[n] = parent_value(i, j, k); });

    std::string open_at = address_of(arr);
    CHECK(open_at == (form == "posix" ? create_at : open_at));
    CHECK((form == "posix" || open_at.rfind("shmid:", 0) == 0));
    std::vector<std::string> ways = {open_at};
    if (form == "key")
        ways.push_back(create_at);
    for (const std::string &at : ways) {
        INFO(form << " opened at " << at);
        int status = test::in_child([&] {
            ipc_array *theirs = nullptr;
            if (ipc_array_open(&theirs, at.c_str(), 0) != 0)
                return 1;
            if (ipc_array_eltype(theirs) != IPC_FLOAT64 || ipc_array_ndims(theirs) != 3 ||
                ipc_array_dim(theirs, 0) != 5 || ipc_array_dim(theirs, 1) != 4 || ipc_array_dim(theirs, 2) != 3 ||
                ipc_array_length(theirs) != 60 || ipc_array_bytes(theirs) != 480 || ipc_array_readonly(theirs) != 0)
                return 2;
            auto *data = static_cast<double *>(ipc_array_data(theirs));
            int wrong = 0;
            each(dims, [&](int64_t n, int64_t i, int64_t j, int64_t k) {
                wrong += data[n] != parent_value(i, j, k);
                data[n] = child_value(i, j, k);
            });
            return ipc_array_close(theirs) == 0 && wrong == 0 ? 0 : 3;
        });
        REQUIRE(test::exit_code(status) == 0);
        int wrong = 0;
        each(dims, [&](int64_t n, int64_t i, int64_t j, int64_t k) {
            wrong += mine[n] != child_value(i, j, k);
            mine[n] = parent_value(i, j, k);
        });
        CHECK(wrong == 0);
    }
    REQUIRE(ipc_array_close(arr) == 0);
    CHECK(ipc_array_open(&arr, open_at.c_str(), 0) == -ENOENT);
}

TEST_CASE("a child writing to a read-only array dies with SIGSEGV", "[array][process]") {
    auto form = GENERATE(as<std::string>{}, "posix", "key");
    std::string create_at = creation_address(form);
    const int64_t dims[2] = {16, 2};
    ipc_array *arr = nullptr;
    REQUIRE(ipc_array_create(&arr, create_at.c_str(), IPC_INT32, 2, dims, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    static_cast<int32_t *>(ipc_array_data(arr))[31] = 77;
    std::string at = address_of(arr);
    int status = test::in_child([&] {
        ipc_array *ro = nullptr;
        if (ipc_array_open(&ro, at.c_str(), IPC_RDONLY) != 0 || ipc_array_readonly(ro) != 1)
            return 1;
        auto *p = static_cast<volatile int32_t *>(ipc_array_data(ro));
        if (p[31] != 77 || ipc_array_length(ro) != 32)
            return 2;
        p[31] = 78; // must fault
        return 3;
    });
    CHECK(test::exit_code(status) == -SIGSEGV);
    CHECK(static_cast<int32_t *>(ipc_array_data(arr))[31] == 77);
    ipc_array_close(arr);
}

TEST_CASE("a hostile header written by another process is rejected", "[array][process]") {
    std::string name = test::unique_name("hostile");
    const int64_t dims[2] = {3, 4};
    ipc_array *arr = nullptr;
    REQUIRE(ipc_array_create(&arr, name.c_str(), IPC_FLOAT32, 2, dims, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    Raw raw(name);
    const std::vector<uint8_t> good(raw.bytes(), raw.bytes() + 64);

    struct Attack {
        const char *what;
        size_t at;
        int64_t value;
        int width;
        const char *field;
    };
    const Attack attacks[] = {
        {"magic", 0, 0x57412D30, 4, "magic"},
        {"element type", 4, 99, 2, "element type code 99"},
        {"rank 0", 6, 0, 2, "rank 0"},
        {"rank beyond the object", 6, 4000, 2, "dimension table"},
        {"offset", 8, 16, 8, "data offset 16"},
        {"dimension below 1", 24, 0, 8, "dimension 1 is 0"},
        {"dimension negative", 16, -7, 8, "dimension 0 is -7"},
        {"dimension overflowing", 16, INT64_MAX, 8, "overflows"},
        {"data beyond the object", 24, 1 << 20, 8, "data ends at byte"},
    };
    for (const Attack &attack : attacks) {
        INFO(attack.what);
        int status = test::in_child([&] {
            ipc_shm *shm = nullptr;
            if (ipc_shm_open(&shm, name.c_str(), 0) != 0)
                return 1;
            std::memcpy(static_cast<uint8_t *>(ipc_shm_addr(shm)) + attack.at, &attack.value, attack.width);
            return ipc_shm_close(shm);
        });
        REQUIRE(test::exit_code(status) == 0);
        ipc_array *victim = nullptr;
        CHECK(ipc_array_open(&victim, name.c_str(), IPC_RDONLY) == -EBADMSG);
        CHECK(victim == nullptr);
        CHECK(mentions(attack.field));
        CHECK(mentions(name.c_str()));
        // The handle opened before keeps the header it validated.
        CHECK(ipc_array_length(arr) == 12);
        CHECK(ipc_array_dim(arr, 1) == 4);
        std::memcpy(raw.bytes(), good.data(), good.size());
    }
    ipc_array *again = nullptr;
    REQUIRE(ipc_array_open(&again, name.c_str(), 0) == 0);
    ipc_array_close(again);

    // An object too small for any header.
    std::string tiny = test::unique_name("tiny");
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, tiny.c_str(), 10, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_array_open(&again, tiny.c_str(), 0) == -EBADMSG);
    CHECK(mentions("fewer than the 16"));
    ipc_shm_close(shm);
    ipc_array_close(arr);
}

TEST_CASE("a reader sees -EAGAIN until the writer publishes the magic", "[array][process]") {
    const int64_t dims[2] = {8, 8};
    size_t size = ipc_array_header_size(2) + 64 * sizeof(double);
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, "private", size, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    char at[IPC_ADDRESS_MAX];
    REQUIRE(ipc_shm_address(shm, at, sizeof at) > 0);
    ipc_array *arr = nullptr;
    CHECK(ipc_array_open(&arr, at, 0) == -EAGAIN);
    CHECK(mentions("not published"));

    // Every field but the magic: still not published.
    int status = test::in_child([&] {
        ipc_shm *theirs = nullptr;
        if (ipc_shm_open(&theirs, at, 0) != 0)
            return 1;
        auto *p = static_cast<uint8_t *>(ipc_shm_addr(theirs));
        put<uint16_t>(p + 4, IPC_FLOAT64);
        put<uint16_t>(p + 6, 2);
        put<int64_t>(p + 8, 64);
        put<int64_t>(p + 16, 8);
        put<int64_t>(p + 24, 8);
        return ipc_shm_close(theirs);
    });
    REQUIRE(test::exit_code(status) == 0);
    CHECK(ipc_array_open(&arr, at, 0) == -EAGAIN);

    // A writer publishing while the parent polls: every failure is -EAGAIN,
    // never a partial header.
    std::memset(ipc_shm_addr(shm), 0, 64);
    pid_t writer = test::spawn([&] {
        ipc_shm *theirs = nullptr;
        if (ipc_shm_open(&theirs, at, 0) != 0)
            return 1;
        usleep(20000);
        int rc = ipc_array_write_header(ipc_shm_addr(theirs), ipc_shm_size(theirs), IPC_FLOAT64, 2, dims);
        ipc_shm_close(theirs);
        return rc == 0 ? 0 : 2;
    });
    int rc = -EAGAIN, polls = 0;
    bool only_eagain = true;
    test::eventually([&] {
        ++polls;
        rc = ipc_array_open(&arr, at, IPC_RDONLY);
        only_eagain = only_eagain && (rc == 0 || rc == -EAGAIN);
        return rc == 0;
    });
    CHECK(test::exit_code(test::wait_for(writer)) == 0);
    REQUIRE(rc == 0);
    CHECK(only_eagain);
    CHECK(polls > 1);
    CHECK(ipc_array_length(arr) == 64);
    reinterpret_cast<double *>(static_cast<char *>(ipc_shm_addr(shm)) + 64)[63] = 6.25; // the data offset
    CHECK(static_cast<const double *>(ipc_array_data(arr))[63] == 6.25);
    ipc_array_close(arr);
    ipc_shm_close(shm);
}

TEST_CASE("open-or-create opens the same array and refuses a different one", "[array]") {
    auto form = GENERATE(as<std::string>{}, "posix", "key");
    std::string at = creation_address(form);
    const int64_t dims[2] = {6, 7};
    ipc_array *a = nullptr, *b = nullptr, *c = nullptr;
    REQUIRE(ipc_array_create(&a, at.c_str(), IPC_INT16, 2, dims, 0600, IPC_OPEN_OR_CREATE) == 0);
    REQUIRE(ipc_array_create(&b, at.c_str(), IPC_INT16, 2, dims, 0600, IPC_OPEN_OR_CREATE) == 0);
    static_cast<int16_t *>(ipc_array_data(a))[41] = 1234;
    CHECK(static_cast<int16_t *>(ipc_array_data(b))[41] == 1234);
    CHECK(address_of(a) == address_of(b));

    const int64_t other_dims[2] = {7, 6};
    CHECK(ipc_array_create(&c, at.c_str(), IPC_INT16, 2, other_dims, 0600, IPC_OPEN_OR_CREATE | IPC_UNLINK_ON_CLOSE) ==
          -EEXIST);
    CHECK(mentions("Int16 array of dims 6x7, not the Int16 array of dims 7x6"));
    CHECK(ipc_array_create(&c, at.c_str(), IPC_UINT16, 2, dims, 0600, IPC_OPEN_OR_CREATE) == -EEXIST);
    CHECK(mentions("not the UInt16 array"));
    CHECK(ipc_array_create(&c, at.c_str(), IPC_INT16, 1, dims, 0600, IPC_OPEN_OR_CREATE) == -EEXIST);
    CHECK(ipc_array_create(&c, at.c_str(), IPC_INT16, 2, dims, 0600, 0) == -EEXIST);
    CHECK(c == nullptr);
    // The refused unlink-on-close handle removed nothing.
    ipc_array_close(b);
    REQUIRE(ipc_array_open(&b, address_of(a).c_str(), 0) == 0);
    ipc_array_close(b);
    ipc_array_close(a);
    REQUIRE(ipc_shm_unlink(at.c_str()) == 0);

    // An existing object that holds no valid header.
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, at.c_str(), 4096, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    std::memset(ipc_shm_addr(shm), 0xFF, 64);
    CHECK(ipc_array_create(&c, at.c_str(), IPC_INT16, 2, dims, 0600, IPC_OPEN_OR_CREATE) == -EBADMSG);
    CHECK(mentions("magic 0xffffffff"));
    ipc_shm_close(shm);
}

TEST_CASE("open-or-create waits a bounded time for another creator to publish", "[array][process]") {
    std::string at = "key:" + std::to_string(test::unique_key());
    const int64_t dims[1] = {100};
    size_t size = ipc_array_header_size(1) + 100 * 8;
    ipc_shm *shm = nullptr; // a creator that has made the segment, not yet the header
    REQUIRE(ipc_shm_create(&shm, at.c_str(), size, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    pid_t creator = test::spawn([&] {
        usleep(50000);
        return ipc_array_write_header(ipc_shm_addr(shm), size, IPC_UINT64, 1, dims) == 0 ? 0 : 1;
    });
    ipc_array *arr = nullptr;
    CHECK(ipc_array_create(&arr, at.c_str(), IPC_UINT64, 1, dims, 0600, IPC_OPEN_OR_CREATE) == 0);
    CHECK(test::exit_code(test::wait_for(creator)) == 0);
    CHECK(ipc_array_length(arr) == 100);
    ipc_array_close(arr);

    // Never published: -EAGAIN after about a second, not a hang.
    std::memset(ipc_shm_addr(shm), 0, 4);
    auto start = std::chrono::steady_clock::now();
    CHECK(ipc_array_create(&arr, at.c_str(), IPC_UINT64, 1, dims, 0600, IPC_OPEN_OR_CREATE) == -EAGAIN);
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(waited >= 1.0);
    CHECK(waited < 10.0);
    CHECK(mentions("not published"));
    ipc_shm_close(shm);
}

TEST_CASE("unlink-on-close removes the array only when asked and valid", "[array]") {
    std::string name = test::unique_name("uoc");
    const int64_t dims[1] = {3};
    ipc_array *a = nullptr, *b = nullptr;
    REQUIRE(ipc_array_create(&a, name.c_str(), IPC_UINT8, 1, dims, 0640, 0) == 0);
    ipc_array_close(a);
    REQUIRE(ipc_array_open(&a, name.c_str(), IPC_UNLINK_ON_CLOSE) == 0);
    REQUIRE(ipc_array_open(&b, name.c_str(), 0) == 0);
    ipc_array_close(a);
    CHECK(ipc_array_open(&a, name.c_str(), 0) == -ENOENT);
    static_cast<uint8_t *>(ipc_array_data(b))[2] = 9; // still mapped
    ipc_array_close(b);

    // A failed open with the flag leaves the object alone.
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 64, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_array_open(&a, name.c_str(), IPC_UNLINK_ON_CLOSE) == -EAGAIN);
    ipc_shm *still = nullptr;
    REQUIRE(ipc_shm_open(&still, name.c_str(), 0) == 0);
    ipc_shm_close(still);
    ipc_shm_close(shm);
}

TEST_CASE("an array wrapped inside memory the caller owns", "[array][process]") {
    std::string name = test::unique_name("wrap");
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 8192, 0600, IPC_UNLINK_ON_CLOSE) == 0);
    auto *base = static_cast<uint8_t *>(ipc_shm_addr(shm));
    const int64_t dims[2] = {10, 20};
    size_t avail = 8192 - 4096;
    REQUIRE(ipc_array_write_header(base + 4096, avail, IPC_COMPLEXF32, 2, dims) == 0);
    // The bytes IPC.jl would have written.
    const uint8_t expected[24] = {0x31, 0x2D, 0x41, 0x57, 11, 0, 2, 0, 64, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0};
    CHECK(std::memcmp(base + 4096, expected, sizeof expected) == 0);

    ipc_array *arr = nullptr;
    REQUIRE(ipc_array_wrap(&arr, base + 4096, avail, 0) == 0);
    CHECK(ipc_array_data(arr) == base + 4096 + 64);
    CHECK(ipc_array_eltype(arr) == IPC_COMPLEXF32);
    CHECK(ipc_array_elsize(ipc_array_eltype(arr)) == 8);
    CHECK(ipc_array_bytes(arr) == 1600);
    CHECK(ipc_array_readonly(arr) == 0);
    char buf[IPC_ADDRESS_MAX];
    CHECK(ipc_array_address(arr, buf, sizeof buf) == -EINVAL);
    CHECK(mentions("no address"));
    static_cast<float *>(ipc_array_data(arr))[2 * 199 + 1] = 2.5f; // imaginary part of the last element

    int status = test::in_child([&] {
        ipc_shm *theirs = nullptr;
        ipc_array *view = nullptr;
        if (ipc_shm_open(&theirs, name.c_str(), IPC_RDONLY) != 0)
            return 1;
        auto *at = static_cast<uint8_t *>(ipc_shm_addr(theirs)) + 4096;
        if (ipc_array_wrap(&view, at, 4096, IPC_RDONLY) != 0 || ipc_array_readonly(view) != 1)
            return 2;
        bool ok = ipc_array_dim(view, 1) == 20 && static_cast<float *>(ipc_array_data(view))[399] == 2.5f;
        ipc_array_close(view);
        ipc_shm_close(theirs);
        return ok ? 0 : 3;
    });
    CHECK(test::exit_code(status) == 0);
    REQUIRE(ipc_array_close(arr) == 0); // leaves the memory alone
    CHECK(base[4096] == 0x31);

    // Bad input.
    CHECK(ipc_array_wrap(&arr, base + 4096, 1663, 0) == -EBADMSG); // data needs 1664
    CHECK(mentions("data ends at byte 1664"));
    CHECK(ipc_array_wrap(&arr, base + 4100, avail, 0) == -EINVAL);
    CHECK(mentions("aligned"));
    CHECK(ipc_array_wrap(&arr, nullptr, avail, 0) == -EINVAL);
    CHECK(ipc_array_wrap(&arr, base + 4096, avail, IPC_UNLINK_ON_CLOSE) == -EINVAL);
    CHECK(ipc_array_wrap(nullptr, base + 4096, avail, 0) == -EINVAL);
    CHECK(ipc_array_wrap(&arr, base + 1024, 1024, 0) == -EAGAIN); // zeros: nothing published
    CHECK(ipc_array_write_header(base, 1663, IPC_COMPLEXF32, 2, dims) == -EINVAL);
    CHECK(mentions("needs 1664 bytes"));
    CHECK(ipc_array_write_header(base + 4, 4000, IPC_COMPLEXF32, 2, dims) == -EINVAL);
    CHECK(ipc_array_write_header(nullptr, 4000, IPC_COMPLEXF32, 2, dims) == -EINVAL);
    CHECK(ipc_array_write_header(base, 4000, IPC_COMPLEXF32, 2, nullptr) == -EINVAL);
    CHECK(ipc_array_write_header(base, 4000, 0, 2, dims) == -EINVAL);
    CHECK(ipc_array_write_header(base, 4000, IPC_COMPLEXF32, 0, dims) == -EINVAL);
    CHECK(base[0] == 0); // nothing written by a refused call
    ipc_shm_close(shm);
}

TEST_CASE("bad input to arrays gets its exact code", "[array][errors]") {
    std::string name = test::unique_name("bad");
    const int64_t dims[2] = {2, 3};
    ipc_array *arr = reinterpret_cast<ipc_array *>(0x1);
    CHECK(ipc_array_create(nullptr, name.c_str(), IPC_INT8, 2, dims, 0, 0) == -EINVAL);
    CHECK(mentions("out-parameter is NULL"));
    CHECK(ipc_array_create(&arr, nullptr, IPC_INT8, 2, dims, 0, 0) == -EINVAL);
    CHECK(arr == nullptr);
    CHECK(mentions("address is NULL"));
    CHECK(ipc_array_create(&arr, name.c_str(), IPC_INT8, 2, nullptr, 0, 0) == -EINVAL);
    CHECK(mentions("dims is NULL"));
    for (int eltype : {0, 13, -1}) {
        CHECK(ipc_array_create(&arr, name.c_str(), eltype, 2, dims, 0, 0) == -EINVAL);
        CHECK(mentions("element type code"));
    }
    for (int ndims : {0, -1, IPC_ARRAY_MAXDIMS + 1}) {
        CHECK(ipc_array_create(&arr, name.c_str(), IPC_INT8, ndims, dims, 0, 0) == -EINVAL);
        CHECK(mentions("rank"));
    }
    const int64_t zero[2] = {2, 0};
    CHECK(ipc_array_create(&arr, name.c_str(), IPC_INT8, 2, zero, 0, 0) == -EINVAL);
    CHECK(mentions("dimension 1 is 0"));
    const int64_t huge[2] = {INT64_MAX, 2};
    CHECK(ipc_array_create(&arr, name.c_str(), IPC_INT8, 2, huge, 0, 0) == -EINVAL);
    CHECK(mentions("overflows"));
    const int64_t wide[1] = {INT64_MAX / 4};
    CHECK(ipc_array_create(&arr, "private", IPC_FLOAT64, 1, wide, 0, 0) == -EINVAL);
    CHECK(ipc_array_create(&arr, name.c_str(), IPC_INT8, 2, dims, 0, IPC_RDONLY) == -EINVAL);
    CHECK(ipc_array_create(&arr, name.c_str(), IPC_INT8, 2, dims, 01000, 0) == -EINVAL);
    CHECK(ipc_array_create(&arr, "shmid:1", IPC_INT8, 2, dims, 0, 0) == -EINVAL);
    CHECK(ipc_array_create(&arr, "frames", IPC_INT8, 2, dims, 0, 0) == -EINVAL);
    CHECK(ipc_array_open(&arr, name.c_str(), 0) == -ENOENT);
    CHECK(ipc_array_open(&arr, nullptr, 0) == -EINVAL);
    CHECK(ipc_array_open(&arr, "private", 0) == -EINVAL);
    CHECK(ipc_array_open(&arr, name.c_str(), IPC_OPEN_OR_CREATE) == -EINVAL);
    CHECK(ipc_array_open(nullptr, name.c_str(), 0) == -EINVAL);

    CHECK(ipc_array_elsize(0) == 0);
    CHECK(mentions("element type code 0"));
    CHECK(ipc_array_elsize(13) == 0);
    const size_t sizes[] = {1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 8, 16};
    for (int t = IPC_INT8; t <= IPC_COMPLEXF64; ++t)
        CHECK(ipc_array_elsize(t) == sizes[t - 1]);
    CHECK(ipc_array_header_size(1) == 64);
    CHECK(ipc_array_header_size(6) == 64);
    CHECK(ipc_array_header_size(7) == 128);
    CHECK(ipc_array_header_size(IPC_ARRAY_MAXDIMS) == 320);
    CHECK(ipc_array_header_size(0) == 0);
    CHECK(mentions("rank 0"));
    CHECK(ipc_array_header_size(IPC_ARRAY_MAXDIMS + 1) == 0);

    REQUIRE(ipc_array_create(&arr, name.c_str(), IPC_INT8, 2, dims, 0, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_array_dim(arr, 2) == -EINVAL);
    CHECK(mentions("dimension 2 is outside 0..1"));
    CHECK(ipc_array_dim(arr, -1) == -EINVAL);
    char tiny[4];
    CHECK(ipc_array_address(arr, tiny, sizeof tiny) == -ERANGE);
    CHECK(ipc_array_address(arr, nullptr, 100) == -EINVAL);
    REQUIRE(ipc_array_close(arr) == 0);

    // NULL, closed and wrong-kind handles.
    CHECK(ipc_array_close(nullptr) == 0);
    for (const ipc_array *bad : {static_cast<const ipc_array *>(nullptr), static_cast<const ipc_array *>(arr)}) {
        CHECK(ipc_array_data(bad) == nullptr);
        CHECK(ipc_array_eltype(bad) == -EBADF);
        CHECK(ipc_array_ndims(bad) == -EBADF);
        CHECK(ipc_array_dim(bad, 0) == -EBADF);
        CHECK(ipc_array_length(bad) == -EBADF);
        CHECK(ipc_array_bytes(bad) == 0);
        CHECK(ipc_array_readonly(bad) == -EBADF);
        char buf[IPC_ADDRESS_MAX];
        CHECK(ipc_array_address(bad, buf, sizeof buf) == -EBADF);
    }
    CHECK(ipc_array_close(arr) == -EBADF);
    CHECK(mentions("not a live ipc_array handle"));
    ipc_shm *shm = nullptr;
    REQUIRE(ipc_shm_create(&shm, name.c_str(), 64, 0, IPC_UNLINK_ON_CLOSE) == 0);
    CHECK(ipc_array_length(reinterpret_cast<ipc_array *>(shm)) == -EBADF);
    CHECK(ipc_array_close(reinterpret_cast<ipc_array *>(shm)) == -EBADF);
    ipc_shm_close(shm);
}
