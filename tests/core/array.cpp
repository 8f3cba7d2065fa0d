// Shared array headers in the core: IPC.jl's bytes exactly, and validation
// of every field against hostile input, never reading past the object.
#include "../catch.hpp"
#include "../support.hpp"

#include "array.hpp"
#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <sys/mman.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

// Header bytes as hexadecimal text; spaces are ignored.
Bytes hex(const char *text) {
    std::string digits;
    for (const char *c = text; *c; ++c)
        if (*c != ' ')
            digits += *c;
    Bytes out;
    for (size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    return out;
}

// Committed fixtures, written byte by byte from the layout table of
// DESIGN.md section 5 (little-endian), as IPC.jl writes them; padding up to
// the data offset is zero, as in the fresh memory IPC.jl writes into.
struct Fixture {
    const char *name;
    int eltype;
    std::vector<int64_t> dims;
    Bytes header;
    size_t total; // header plus data bytes: the size of IPC.jl's object
};

const std::vector<Fixture> &fixtures() {
    static const std::vector<Fixture> all = {
        {"Float32 3x4x5", 9, {3, 4, 5},
         hex("31 2D 41 57 09 00 03 00 40 00 00 00 00 00 00 00"
             "03 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"
             "05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
         64 + 4 * 60},
        {"Int8 7", 1, {7},
         hex("31 2D 41 57 01 00 01 00 40 00 00 00 00 00 00 00"
             "07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
         64 + 7},
        {"ComplexF64 2x3x1x2x1x1x2", 12, {2, 3, 1, 2, 1, 1, 2},
         hex("31 2D 41 57 0C 00 07 00 80 00 00 00 00 00 00 00"
             "02 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
             "01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00"
             "01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
             "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
         128 + 16 * 24},
    };
    return all;
}

// The expected header of any array, encoded independently of the library:
// explicit little-endian bytes, padding zero.
Bytes expected_header(int eltype, const std::vector<int64_t> &dims) {
    size_t n = dims.size();
    size_t offset = (16 + 8 * n + 63) / 64 * 64;
    Bytes out(offset, 0);
    auto put = [&](size_t at, uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out[at + i] = static_cast<uint8_t>(value >> (8 * i));
    };
    put(0, 0x57412D31, 4);
    put(4, static_cast<uint64_t>(eltype), 2);
    put(6, n, 2);
    put(8, offset, 8);
    for (size_t k = 0; k < n; ++k)
        put(16 + 8 * k, static_cast<uint64_t>(dims[k]), 8);
    return out;
}

// `size` bytes (at most a page) ending exactly where a PROT_NONE page
// starts: any read past the object faults, with or without AddressSanitizer.
// One region serves every check, so thousands of cases stay fast.
class Guarded {
  public:
    explicit Guarded(size_t size) : size_(size) {
        static uint8_t *const page_end = [] {
            size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
            void *base = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            REQUIRE(base != MAP_FAILED);
            REQUIRE(mprotect(static_cast<uint8_t *>(base) + page, page, PROT_NONE) == 0);
            return static_cast<uint8_t *>(base) + page;
        }();
        REQUIRE(size <= static_cast<size_t>(sysconf(_SC_PAGESIZE)));
        data_ = page_end - size;
    }
    Guarded(const Bytes &bytes, size_t size) : Guarded(size) {
        if (size_t n = std::min(size, bytes.size()))
            std::memcpy(data_, bytes.data(), n);
    }
    uint8_t *data() const { return data_; }
    size_t size() const { return size_; }

  private:
    uint8_t *data_ = nullptr;
    size_t size_ = 0;
};

struct Outcome {
    int code = 0; // 0: accepted
    std::string message;
    ipc::ArrayLayout layout;
};

Outcome check(const void *addr, size_t size) {
    Outcome out;
    try {
        out.layout = ipc::validate_header(addr, size);
    } catch (const std::system_error &e) {
        out.code = e.code().value();
        out.message = e.what();
    }
    return out;
}

Outcome check(const Bytes &bytes, size_t size) {
    Guarded memory(bytes, size);
    return check(memory.data(), size);
}

Bytes with(Bytes bytes, size_t at, uint64_t value, int width) {
    for (int i = 0; i < width; ++i)
        bytes[at + i] = static_cast<uint8_t>(value >> (8 * i));
    return bytes;
}

int create_code(int eltype, int ndims, const int64_t *dims) {
    try {
        ipc::make_layout(eltype, ndims, dims);
    } catch (const std::system_error &e) {
        return e.code().value();
    }
    return 0;
}

std::string create_message(int eltype, int ndims, const int64_t *dims) {
    try {
        ipc::make_layout(eltype, ndims, dims);
    } catch (const std::system_error &e) {
        return e.what();
    }
    return "";
}

bool mentions(const std::string &text, const char *part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("element sizes and header sizes follow the layout", "[core][array]") {
    const size_t sizes[] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 8, 16, 0};
    for (int t = 0; t <= 13; ++t)
        CHECK(ipc::element_size(t) == sizes[t]);
    CHECK(ipc::element_size(-1) == 0);
    CHECK(ipc::header_size(0) == 0);
    CHECK(ipc::header_size(-1) == 0);
    for (int n = 1; n <= 6; ++n)
        CHECK(ipc::header_size(n) == 64);
    for (int n = 7; n <= 14; ++n)
        CHECK(ipc::header_size(n) == 128);
    CHECK(ipc::header_size(15) == 192);
    CHECK(ipc::header_size(32) == 320);
    CHECK(ipc::header_size(65535) == (16 + 8 * 65535 + 63) / 64 * 64);
}

TEST_CASE("the library reads IPC.jl's fixtures", "[core][array]") {
    for (const Fixture &f : fixtures()) {
        INFO(f.name);
        REQUIRE(f.header.size() == ipc::header_size(static_cast<int>(f.dims.size())));
        Outcome out = check(f.header, f.total);
        REQUIRE(out.code == 0);
        CHECK(out.layout.eltype == f.eltype);
        CHECK(out.layout.ndims == static_cast<int>(f.dims.size()));
        for (size_t k = 0; k < f.dims.size(); ++k)
            CHECK(out.layout.dims[k] == f.dims[k]);
        CHECK(out.layout.offset == f.header.size());
        CHECK(out.layout.total() == f.total);
        // Larger objects are fine (System V rounds nothing, but callers may).
        CHECK(check(f.header, f.total + 1000).code == 0);
    }
}

TEST_CASE("the library writes IPC.jl's fixtures byte for byte", "[core][array]") {
    for (const Fixture &f : fixtures()) {
        INFO(f.name);
        ipc::ArrayLayout layout =
            ipc::make_layout(f.eltype, static_cast<int>(f.dims.size()), f.dims.data());
        CHECK(layout.total() == f.total);
        // Into dirty memory: the padding is cleared too, the data untouched.
        std::vector<uint64_t> memory((f.total + 8) / 8, 0xAAAAAAAAAAAAAAAAull);
        auto *bytes = reinterpret_cast<uint8_t *>(memory.data());
        ipc::write_header(bytes, f.total, layout);
        CHECK(Bytes(bytes, bytes + f.header.size()) == f.header);
        CHECK(bytes[f.header.size()] == 0xAA);

        // In new shared memory, at each address form of creation.
        for (const std::string &at : {test::unique_name("fixture"), std::string("private"),
                                      "key:" + std::to_string(test::unique_key())}) {
            INFO(at);
            auto arr = ipc::SharedArray::create(at, f.eltype, static_cast<int>(f.dims.size()),
                                                f.dims.data(), 0600, ipc::unlink_on_close);
            CHECK(arr.size() == f.total);
            auto *base = static_cast<const uint8_t *>(arr.base());
            CHECK(Bytes(base, base + f.header.size()) == f.header);
            CHECK(Bytes(base + f.header.size(), base + f.total) == Bytes(f.total - f.header.size(), 0));
            CHECK(arr.data() == base + f.header.size());
        }
    }
}

TEST_CASE("every type and rank is written as IPC.jl writes it", "[core][array]") {
    for (int eltype = 1; eltype <= 12; ++eltype) {
        for (int ndims = 1; ndims <= ipc::array_max_dims; ++ndims) {
            std::vector<int64_t> dims(ndims);
            for (int k = 0; k < ndims; ++k)
                dims[k] = k == 0 ? 300 + eltype : (k + eltype) % 7 == 0 ? 2 : 1; // small data
            ipc::ArrayLayout layout = ipc::make_layout(eltype, ndims, dims.data());
            Bytes expected = expected_header(eltype, dims);
            REQUIRE(layout.offset == expected.size());
            std::vector<uint64_t> memory((layout.total() + 7) / 8, ~0ull);
            ipc::write_header(memory.data(), layout.total(), layout);
            auto *bytes = reinterpret_cast<const uint8_t *>(memory.data());
            REQUIRE(Bytes(bytes, bytes + expected.size()) == expected);
            // And it reads back the same.
            Outcome out = check(bytes, layout.total());
            REQUIRE(out.code == 0);
            CHECK(out.layout.dims == layout.dims);
            CHECK(out.layout.bytes == layout.bytes);
        }
    }
}

TEST_CASE("each corrupt header is EBADMSG naming the field", "[core][array]") {
    const Fixture &f32 = fixtures()[0]; // Float32 3x4x5, offset 64, 304 bytes
    const Bytes &h = f32.header;
    struct Case {
        const char *what;
        Bytes bytes;
        size_t size;
        const char *field;
    };
    const int64_t big = int64_t(1) << 32;
    Bytes rank1 = fixtures()[1].header; // Int8 7
    std::vector<Case> cases = {
        {"empty object", h, 0, "fewer than the 16"},
        {"15 bytes", h, 15, "fewer than the 16"},
        {"byte-swapped magic", with(h, 0, 0x312D4157, 4), 304, "magic 0x312d4157"},
        {"magic all ones", with(h, 0, 0xFFFFFFFF, 4), 304, "magic"},
        {"magic off by one", with(h, 0, 0x57412D32, 4), 304, "magic"},
        {"type 0", with(h, 4, 0, 2), 304, "element type code 0"},
        {"type 13", with(h, 4, 13, 2), 304, "element type code 13"},
        {"type 65535", with(h, 4, 0xFFFF, 2), 304, "element type code 65535"},
        {"rank 0", with(h, 6, 0, 2), 304, "rank 0"},
        {"dimension table beyond the object", with(h, 6, 100, 2), 304, "dimension table ends at byte 816"},
        {"rank 65535", with(h, 6, 0xFFFF, 2), 304, "dimension table"},
        {"rank 33", with(with(Bytes(400, 0), 0, 0x57412D31, 4), 4, 0x00210001, 4), 400,
         "above the maximum of 32"},
        {"offset 0", with(h, 8, 0, 8), 304, "data offset 0 is not 64"},
        {"offset 63", with(h, 8, 63, 8), 304, "data offset 63"},
        {"offset 128", with(h, 8, 128, 8), 304, "data offset 128"},
        {"offset 40 (unrounded)", with(h, 8, 40, 8), 304, "data offset 40"},
        {"offset negative", with(h, 8, uint64_t(-64), 8), 304, "data offset -64"},
        {"offset huge", with(h, 8, uint64_t(INT64_MAX), 8), 304, "data offset"},
        {"dimension 0 is 0", with(h, 16, 0, 8), 304, "dimension 0 is 0"},
        {"dimension 2 is -1", with(h, 32, uint64_t(-1), 8), 304, "dimension 2 is -1"},
        {"dimension INT64_MIN", with(h, 24, uint64_t(INT64_MIN), 8), 304, "dimension 1 is"},
        {"element count overflows", with(with(h, 16, big, 8), 24, big, 8), 304, "number of elements overflows"},
        {"data size overflows", with(with(rank1, 4, 12, 2), 16, uint64_t(1) << 60, 8), 71, "data size"},
        {"offset plus data overflows", with(with(rank1, 4, 4, 2), 16, uint64_t(INT64_MAX), 8), 71,
         "plus"},
        {"data beyond the object", h, 303, "data ends at byte 304"},
        {"data far beyond the object", with(h, 16, 1000000, 8), 304, "data ends at byte"},
    };
    for (const Case &c : cases) {
        INFO(c.what);
        Outcome out = check(c.bytes, c.size);
        INFO(out.message);
        CHECK(out.code == EBADMSG);
        CHECK(mentions(out.message, c.field));
    }
}

TEST_CASE("magic 0 is EAGAIN: the header is not published yet", "[core][array]") {
    Bytes h = with(fixtures()[0].header, 0, 0, 4);
    Outcome out = check(h, 304);
    CHECK(out.code == EAGAIN);
    CHECK(mentions(out.message, "not published"));
    CHECK(check(Bytes(4096, 0), 4096).code == EAGAIN); // fresh zeroed memory
    CHECK(check(h, 10).code == EBADMSG);               // the size is checked first
}

TEST_CASE("every truncation of a valid header is rejected without reading past it", "[core][array]") {
    for (const Fixture &f : fixtures()) {
        INFO(f.name);
        Bytes full = f.header;
        full.resize(f.total, 0x5A);
        for (size_t size = 0; size < f.total; ++size) {
            Guarded memory(full, size); // unaligned for most sizes: that must work too
            Outcome out = check(memory.data(), size);
            INFO(size);
            REQUIRE(out.code == EBADMSG);
        }
        Guarded memory(full, f.total);
        CHECK(check(memory.data(), f.total).code == 0);
    }
}

TEST_CASE("every single-byte change of a header is accepted consistently or rejected", "[core][array]") {
    size_t accepted = 0, rejected = 0;
    for (const Fixture &f : fixtures()) {
        for (size_t at = 0; at < f.header.size(); ++at) {
            for (uint8_t value : {uint8_t(0), uint8_t(1), uint8_t(2), uint8_t(0x40), uint8_t(0x7F),
                                  uint8_t(0x80), uint8_t(0xFF), uint8_t(f.header[at] ^ 1)}) {
                Bytes bytes = f.header;
                bytes[at] = value;
                Guarded memory(bytes, f.total);
                Outcome out = check(memory.data(), f.total);
                INFO(f.name << " byte " << at << " = " << int(value) << ": " << out.message);
                if (out.code == 0) {
                    ++accepted;
                    CHECK(out.layout.total() <= f.total);
                    CHECK(out.layout.bytes == out.layout.elsize * size_t(out.layout.length));
                } else {
                    ++rejected;
                    REQUIRE((out.code == EBADMSG || (out.code == EAGAIN && at < 4)));
                }
            }
        }
    }
    CHECK(accepted > 0); // changes in the padding, and dimensions that still fit
    CHECK(rejected > 0);
}

TEST_CASE("random headers never crash validation", "[core][array]") {
    std::mt19937_64 rng(12345);
    int codes[3] = {0, 0, 0}; // accepted, EAGAIN, EBADMSG
    for (int round = 0; round < 20000; ++round) {
        size_t size = rng() % 600;
        Bytes bytes(size);
        for (auto &b : bytes)
            b = static_cast<uint8_t>(rng());
        // Mostly plausible prefixes, so the later checks are reached too.
        if (size >= 16 && rng() % 4 != 0) {
            int ndims = 1 + int(rng() % 40);
            bytes = with(bytes, 0, 0x57412D31, 4);
            bytes = with(bytes, 4, 1 + rng() % 12, 2);
            bytes = with(bytes, 6, ndims, 2);
            if (rng() % 2)
                bytes = with(bytes, 8, (16 + 8 * ndims + 63) / 64 * 64, 8);
            for (int k = 0; k < ndims && 16 + 8 * size_t(k) + 8 <= size; ++k)
                if (rng() % 2)
                    bytes = with(bytes, 16 + 8 * k, 1 + rng() % 4, 8);
        }
        Guarded memory(bytes, size);
        Outcome out = check(memory.data(), size);
        if (out.code == 0) {
            ++codes[0];
            REQUIRE(out.layout.total() <= size);
        } else {
            REQUIRE((out.code == EAGAIN || out.code == EBADMSG));
            ++codes[out.code == EAGAIN ? 1 : 2];
        }
    }
    CHECK(codes[0] > 0);
    CHECK(codes[2] > 0);
}

TEST_CASE("bad arguments to create are EINVAL naming the rule", "[core][array]") {
    const int64_t dims[] = {3, 4};
    CHECK(create_code(10, 2, dims) == 0);
    CHECK(create_code(10, 2, nullptr) == EINVAL);
    CHECK(mentions(create_message(10, 2, nullptr), "dims is NULL"));
    for (int t : {0, 13, -1, 255})
        CHECK(create_code(t, 2, dims) == EINVAL);
    CHECK(mentions(create_message(13, 2, dims), "element type code 13"));
    for (int n : {0, -1, 33, 65535})
        CHECK(create_code(10, n, dims) == EINVAL);
    CHECK(mentions(create_message(10, 33, dims), "rank 33 is outside 1..32"));
    std::vector<int64_t> many(32, 1);
    CHECK(create_code(1, 32, many.data()) == 0);
    const int64_t zero[] = {3, 0};
    CHECK(create_code(10, 2, zero) == EINVAL);
    CHECK(mentions(create_message(10, 2, zero), "dimension 1 is 0"));
    const int64_t negative[] = {-3};
    CHECK(mentions(create_message(10, 1, negative), "dimension 0 is -3"));
    const int64_t product[] = {int64_t(1) << 32, int64_t(1) << 31};
    CHECK(create_code(1, 2, product) == EINVAL);
    CHECK(mentions(create_message(1, 2, product), "number of elements overflows"));
    const int64_t bytes[] = {int64_t(1) << 61};
    CHECK(create_code(12, 1, bytes) == EINVAL);
    CHECK(mentions(create_message(12, 1, bytes), "data size"));
    const int64_t total[] = {INT64_MAX};
    CHECK(create_code(1, 1, total) == EINVAL); // 2^63-1 + 64 bytes is beyond any mapping
    CHECK(mentions(create_message(1, 1, total), "overflows"));
}

TEST_CASE("write_header checks its memory", "[core][array]") {
    const int64_t dims[] = {4};
    ipc::ArrayLayout layout = ipc::make_layout(7, 1, dims); // 64 + 32 bytes
    alignas(64) uint8_t memory[128] = {};
    auto code = [&](void *addr, size_t size) {
        try {
            ipc::write_header(addr, size, layout);
        } catch (const std::system_error &e) {
            return e.code().value();
        }
        return 0;
    };
    CHECK(code(memory, 95) == EINVAL);
    CHECK(code(memory + 4, 96) == EINVAL);
    CHECK(code(memory, 96) == 0);
    CHECK(ipc::read_header(memory, 96).length == 4);
}
