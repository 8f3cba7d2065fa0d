#include "array.hpp"

#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <system_error>
#include <utility>

namespace ipc {

namespace {

// Julia's names, for messages.
constexpr const char *type_names[array_max_eltype + 1] = {
    "?",      "Int8",    "UInt8",   "Int16",   "UInt16",     "Int32",     "UInt32",
    "Int64", "UInt64", "Float32", "Float64", "ComplexF32", "ComplexF64"};
constexpr size_t type_sizes[array_max_eltype + 1] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 8, 16};

// How long create with open-or-create waits for another creator to publish.
constexpr double publish_wait = 1.0;

template <class T> T load(const unsigned char *p) {
    T value;
    std::memcpy(&value, p, sizeof value);
    return value;
}

template <class T> void store(unsigned char *p, T value) { std::memcpy(p, &value, sizeof value); }

std::string str(int64_t n) { return std::to_string(n); }

// "Float64 array of dims 3x4".
std::string describe(const ArrayLayout &layout) {
    std::string text = std::string(type_names[layout.eltype]) + " array of dims ";
    for (int k = 0; k < layout.ndims; ++k)
        text += (k ? "x" : "") + str(layout.dims[k]);
    return text;
}

// Checks the dimensions already in `layout` and fills in the sizes; `bad`
// throws with the rule that broke. Shared by creation (EINVAL) and header
// validation (EBADMSG).
template <class Bad> void size_up(ArrayLayout &layout, Bad &&bad) {
    layout.elsize = type_sizes[layout.eltype];
    layout.offset = header_size(layout.ndims);
    int64_t length = 1;
    for (int k = 0; k < layout.ndims; ++k) {
        int64_t d = layout.dims[k];
        if (d < 1)
            bad("dimension " + str(k) + " is " + str(d) + ", below 1");
        if (__builtin_mul_overflow(length, d, &length))
            bad("the number of elements overflows 64 bits at dimension " + str(k));
    }
    size_t bytes = 0, total = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(length), layout.elsize, &bytes))
        bad("the data size, " + str(length) + " elements of " + str(int64_t(layout.elsize)) +
            " bytes, overflows");
    if (__builtin_add_overflow(layout.offset, bytes, &total) || total > size_t(PTRDIFF_MAX))
        bad("the data offset " + str(int64_t(layout.offset)) + " plus " + std::to_string(bytes) +
            " data bytes overflows");
    layout.length = length;
    layout.bytes = bytes;
}

ArrayLayout validate(const void *addr, size_t size, uint32_t magic, const std::string &context) {
    auto bad = [&](const std::string &why) { fail(EBADMSG, context + ": " + why); };
    const auto *p = static_cast<const unsigned char *>(addr);
    if (size < array_fixed_header)
        bad("size: the object has " + std::to_string(size) + " bytes, fewer than the 16 of a header");
    if (magic == 0)
        fail(EAGAIN, context + ": magic is 0: the header is not published yet (or the object holds no array)");
    if (magic != array_magic) {
        char hex[96];
        std::snprintf(hex, sizeof hex, "magic 0x%08x is not 0x%08x (\"WA-1\")", magic, array_magic);
        bad(hex);
    }
    ArrayLayout layout;
    int eltype = load<uint16_t>(p + 4);
    int ndims = load<uint16_t>(p + 6);
    int64_t offset = load<int64_t>(p + 8);
    if (eltype < 1 || eltype > array_max_eltype)
        bad("element type code " + str(eltype) + " is outside 1..12");
    if (ndims < 1)
        bad("rank 0: an array has at least 1 dimension");
    size_t table_end = array_fixed_header + 8 * size_t(ndims);
    if (table_end > size)
        bad("rank " + str(ndims) + ": the dimension table ends at byte " + std::to_string(table_end) +
            ", beyond the " + std::to_string(size) + " bytes of the object");
    if (ndims > array_max_dims)
        bad("rank " + str(ndims) + " is above the maximum of " + str(array_max_dims));
    if (offset < 0 || size_t(offset) != header_size(ndims))
        bad("data offset " + str(offset) + " is not " + str(int64_t(header_size(ndims))) +
            ", the offset of rank " + str(ndims));
    layout.eltype = eltype;
    layout.ndims = ndims;
    for (int k = 0; k < ndims; ++k)
        layout.dims[k] = load<int64_t>(p + array_fixed_header + 8 * size_t(k));
    size_up(layout, bad);
    if (layout.total() > size)
        bad("size: the data ends at byte " + std::to_string(layout.total()) + " (offset " +
            std::to_string(layout.offset) + " + " + std::to_string(layout.bytes) + " bytes), beyond the " +
            std::to_string(size) + " bytes of the object");
    return layout;
}

uint32_t load_magic(const void *addr, size_t size) {
    if (size < sizeof(uint32_t))
        return 0; // validate() reports the size first
    return __atomic_load_n(static_cast<const uint32_t *>(addr), __ATOMIC_ACQUIRE);
}

ArrayLayout read_header(const void *addr, size_t size, const std::string &context) {
    return validate(addr, size, load_magic(addr, size), context);
}

void check_aligned(const void *addr, const char *what) {
    if (reinterpret_cast<uintptr_t>(addr) % 8 != 0) {
        char buf[120];
        std::snprintf(buf, sizeof buf, "%s: address %p is not aligned to 8 bytes", what, addr);
        fail(EINVAL, buf);
    }
}

// Waits up to `seconds` for another process to publish the header.
ArrayLayout await_header(const SharedMemory &shm, double seconds, const std::string &context) {
    Deadline deadline(seconds);
    for (;;) {
        try {
            return read_header(shm.addr(), shm.size(), context);
        } catch (const std::system_error &e) {
            if (e.code().value() != EAGAIN || deadline.expired())
                throw;
        }
        timespec pause{0, 1'000'000};
        nanosleep(&pause, nullptr);
    }
}

bool same_shape(const ArrayLayout &a, const ArrayLayout &b) {
    return a.eltype == b.eltype && a.ndims == b.ndims && a.dims == b.dims;
}

} // namespace

size_t element_size(int eltype) {
    return eltype >= 1 && eltype <= array_max_eltype ? type_sizes[eltype] : 0;
}

size_t header_size(int64_t ndims) {
    if (ndims < 1 || ndims > UINT16_MAX)
        return 0;
    return (array_fixed_header + 8 * size_t(ndims) + array_align - 1) / array_align * array_align;
}

ArrayLayout make_layout(int eltype, int ndims, const int64_t *dims) {
    auto bad = [](const std::string &why) { fail(EINVAL, "array: " + why); };
    if (eltype < 1 || eltype > array_max_eltype)
        bad("element type code " + str(eltype) + " is unknown; codes are 1 (IPC_INT8) to 12 (IPC_COMPLEXF64)");
    if (ndims < 1 || ndims > array_max_dims)
        bad("rank " + str(ndims) + " is outside 1.." + str(array_max_dims));
    if (!dims)
        bad("dims is NULL");
    ArrayLayout layout;
    layout.eltype = eltype;
    layout.ndims = ndims;
    std::copy(dims, dims + ndims, layout.dims.begin());
    size_up(layout, bad);
    return layout;
}

ArrayLayout validate_header(const void *addr, size_t size) {
    uint32_t magic = 0;
    if (size >= sizeof magic)
        std::memcpy(&magic, addr, sizeof magic);
    return validate(addr, size, magic, "array header");
}

ArrayLayout read_header(const void *addr, size_t size) { return read_header(addr, size, "array header"); }

void write_header(void *addr, size_t size, const ArrayLayout &layout) {
    check_aligned(addr, "array write header");
    if (size < layout.total())
        fail(EINVAL, "array write header: " + describe(layout) + " needs " + std::to_string(layout.total()) +
                         " bytes, only " + std::to_string(size) + " are available");
    auto *p = static_cast<unsigned char *>(addr);
    auto *magic = static_cast<uint32_t *>(addr);
    __atomic_store_n(magic, 0u, __ATOMIC_SEQ_CST); // a rewrite unpublishes first
    store(p + 4, static_cast<uint16_t>(layout.eltype));
    store(p + 6, static_cast<uint16_t>(layout.ndims));
    store(p + 8, static_cast<int64_t>(layout.offset));
    for (int k = 0; k < layout.ndims; ++k)
        store(p + array_fixed_header + 8 * size_t(k), layout.dims[k]);
    size_t table_end = array_fixed_header + 8 * size_t(layout.ndims);
    std::memset(p + table_end, 0, layout.offset - table_end);
    __atomic_store_n(magic, array_magic, __ATOMIC_RELEASE); // last: readers see all or -EAGAIN
}

SharedArray SharedArray::create(std::string_view address, int eltype, int ndims, const int64_t *dims,
                                uint32_t mode, uint32_t flags) {
    check_flags(flags, unlink_on_close | open_or_create, "array create");
    ArrayLayout layout = make_layout(eltype, ndims, dims);
    std::string context = "array create " + quoted(address);
    for (int attempt = 0;; ++attempt) {
        try {
            SharedArray arr;
            arr.shm_ = SharedMemory::create(address, layout.total(), mode, flags & unlink_on_close,
                                            [&](void *addr, size_t size) { write_header(addr, size, layout); });
            arr.base_ = arr.shm_->addr();
            arr.size_ = arr.shm_->size();
            arr.layout_ = layout;
            return arr;
        } catch (const std::system_error &e) {
            if (e.code().value() != EEXIST || !(flags & open_or_create))
                throw;
        }
        // It exists: it must hold the same array. Opened without the unlink
        // flag so that a mismatch leaves the other object alone.
        std::optional<SharedMemory> shm;
        try {
            shm = SharedMemory::open(address, 0);
        } catch (const std::system_error &e) {
            if (e.code().value() != ENOENT || attempt >= 100)
                throw; // ENOENT: it vanished in between, try creating again
            continue;
        }
        ArrayLayout found = await_header(*shm, publish_wait, context + ": existing header");
        if (!same_shape(found, layout))
            fail(EEXIST, context + ": exists holding a " + describe(found) + ", not the " + describe(layout) +
                             " asked for");
        if (flags & unlink_on_close)
            shm->set_unlink_on_close();
        SharedArray arr;
        arr.base_ = shm->addr();
        arr.size_ = shm->size();
        arr.layout_ = found;
        arr.shm_ = std::move(shm);
        return arr;
    }
}

SharedArray SharedArray::open(std::string_view address, uint32_t flags) {
    check_flags(flags, rdonly | unlink_on_close, "array open");
    SharedMemory shm = SharedMemory::open(address, flags & rdonly);
    SharedArray arr;
    arr.layout_ = read_header(shm.addr(), shm.size(), "array open " + quoted(address));
    if (flags & unlink_on_close)
        shm.set_unlink_on_close(); // only once the header is known good
    arr.base_ = shm.addr();
    arr.size_ = shm.size();
    arr.readonly_ = flags & rdonly;
    arr.shm_ = std::move(shm);
    return arr;
}

SharedArray SharedArray::wrap(void *addr, size_t size, uint32_t flags) {
    check_flags(flags, rdonly, "array wrap");
    check_aligned(addr, "array wrap");
    SharedArray arr;
    arr.layout_ = read_header(addr, size, "array wrap");
    arr.base_ = addr;
    arr.size_ = size;
    arr.readonly_ = flags & rdonly;
    return arr;
}

std::string SharedArray::address() const {
    if (!shm_)
        fail(EINVAL, "array address: a wrapped array lives in the caller's memory and has no address");
    return shm_->address();
}

} // namespace ipc
