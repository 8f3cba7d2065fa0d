// Shared arrays: IPC.jl's "WA-1" header (magic, type code, rank, data offset,
// dimensions) in front of the elements, in shared memory or memory the
// caller owns.
#pragma once

#include "shm.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

inline constexpr uint32_t array_magic = 0x57412D31; // "WA-1", bytes 31 2D 41 57
inline constexpr int array_max_dims = 32;
inline constexpr size_t array_align = 64;
inline constexpr int array_max_eltype = 12;
inline constexpr size_t array_fixed_header = 16; // magic, type, rank, offset

// Bytes of one element of a type code (1..12), 0 for an unknown code.
size_t element_size(int eltype);

// The data offset of a rank: 16 + 8*ndims rounded up to 64. The formula
// holds for any rank a header can hold (up to 65535); 0 for ndims < 1.
size_t header_size(int64_t ndims);

// A checked array description: every field consistent, all sizes computed
// without overflow.
struct ArrayLayout {
    int eltype = 0;
    int ndims = 0;
    std::array<int64_t, array_max_dims> dims{};
    size_t elsize = 0;
    size_t offset = 0; // header size, where the data starts
    int64_t length = 0; // number of elements
    size_t bytes = 0;   // data bytes
    size_t total() const { return offset + bytes; }
};

// Checks arguments of a new array; EINVAL naming the bad one (NULL dims,
// unknown type, rank outside 1..array_max_dims, a dimension below 1, sizes
// that overflow).
ArrayLayout make_layout(int eltype, int ndims, const int64_t *dims);

// Reads and checks the header of an object of `size` bytes at `addr`, which
// need not be aligned. A pure function that never reads outside
// [addr, addr + size), whatever the bytes say: fit for fuzzing. Throws
// EAGAIN when the magic is 0 (not published yet) and EBADMSG naming the
// field for anything else wrong.
ArrayLayout validate_header(const void *addr, size_t size);

// As validate_header(), but loads the magic with acquire ordering first, so
// the rest of a header published by write_header() in another process is
// seen whole. `addr` must be 4-byte aligned.
ArrayLayout read_header(const void *addr, size_t size);

// Writes the header of `layout` at `addr` (8-byte aligned, `size` at least
// layout.total(), both checked: EINVAL): magic 0 first, then the fields and
// zero padding up to the data offset, then the magic with release ordering.
void write_header(void *addr, size_t size, const ArrayLayout &layout);

class SharedArray {
  public:
    static SharedArray create(std::string_view address, int eltype, int ndims, const int64_t *dims,
                              uint32_t mode, uint32_t flags);
    static SharedArray open(std::string_view address, uint32_t flags);
    // A header already in memory the caller owns; the array never frees it.
    static SharedArray wrap(void *addr, size_t size, uint32_t flags);

    const ArrayLayout &layout() const { return layout_; }
    void *base() const { return base_; }
    size_t size() const { return size_; }
    void *data() const { return static_cast<char *>(base_) + layout_.offset; }
    bool readonly() const { return readonly_; }
    // Whether the array is in a shared memory object of its own (not wrapped).
    bool owns_memory() const { return shm_.has_value(); }
    // The shared memory address ("/name" or "shmid:<n>"); EINVAL when wrapped.
    std::string address() const;

  private:
    SharedArray() = default;

    std::optional<SharedMemory> shm_;
    void *base_ = nullptr;
    size_t size_ = 0;
    bool readonly_ = false;
    ArrayLayout layout_;
};

} // namespace ipc
