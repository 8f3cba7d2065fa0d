/**
 * @file ipc/array.h
 * @brief Shared arrays: N-dimensional arrays of plain numbers in shared
 *        memory, behind IPC.jl's self-describing "WA-1" header.
 *
 * An array lives in one shared memory object (any address form of
 * ipc/shm.h) or in memory the caller already has. The object starts with a
 * header, then the elements at a 64-byte aligned offset. Native byte order
 * (little-endian on every supported machine); offsets from the start of the
 * object:
 *
 * | offset | size  | type   | field |
 * | ------ | ----- | ------ | ----- |
 * | 0      | 4     | uint32 | magic ::IPC_ARRAY_MAGIC, bytes `31 2D 41 57` |
 * | 4      | 2     | uint16 | element type code, ::IPC_INT8 .. ::IPC_COMPLEXF64 |
 * | 6      | 2     | uint16 | rank N, 1 .. ::IPC_ARRAY_MAXDIMS |
 * | 8      | 8     | int64  | data offset: `16 + 8*N` rounded up to a multiple of 64 |
 * | 16     | 8*N   | int64  | dimensions, each at least 1, the first varies fastest |
 * | offset | bytes | elements | `elsize * prod(dims)` bytes, column-major |
 *
 * This is the layout of IPC.jl and InterProcessCommunication.jl
 * (`WrappedArray`, `ShmArray`), so Julia programs share arrays with libipc in
 * both directions. Element (i0, i1, ...) of a rank-N array (0-based here) is
 * at linear index `i0 + d0*(i1 + d1*(i2 + ...))`; it is `A[i0+1, i1+1, ...]`
 * in Julia and `a[i0, i1, ...]` of the Fortran-ordered numpy array in Python.
 *
 * Writers store the magic last, with release ordering, so a reader that sees
 * the magic sees the whole header. A reader that finds the magic still 0 gets
 * `-EAGAIN` (the creator has not published the header yet). Every header is
 * validated against the size of its memory before use; a corrupt or hostile
 * header gives `-EBADMSG` with a message naming the field, and nothing outside
 * the memory is ever read. A handle keeps its own copy of the validated
 * header: another process rewriting the header later changes nothing for it.
 *
 * Thread safety: all functions may be called from several threads at once on
 * the same handle, except ipc_array_close(), which must not race with them.
 * The elements themselves are plain memory: synchronise access to them with
 * the locks or semaphores of libipc.
 */
#ifndef IPC_ARRAY_H
#define IPC_ARRAY_H

#include "common.h"
#include "shm.h" /* IPC_ADDRESS_MAX */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A shared array: a validated header and its elements. Opaque. */
typedef struct ipc_array ipc_array;

/** @brief Element type codes, as stored in the header (IPC.jl's codes). */
enum {
    IPC_INT8 = 1,        /**< int8_t, 1 byte (Julia `Int8`, numpy `int8`). */
    IPC_UINT8 = 2,       /**< uint8_t, 1 byte (`UInt8`, `uint8`). */
    IPC_INT16 = 3,       /**< int16_t, 2 bytes (`Int16`, `int16`). */
    IPC_UINT16 = 4,      /**< uint16_t, 2 bytes (`UInt16`, `uint16`). */
    IPC_INT32 = 5,       /**< int32_t, 4 bytes (`Int32`, `int32`). */
    IPC_UINT32 = 6,      /**< uint32_t, 4 bytes (`UInt32`, `uint32`). */
    IPC_INT64 = 7,       /**< int64_t, 8 bytes (`Int64`, `int64`). */
    IPC_UINT64 = 8,      /**< uint64_t, 8 bytes (`UInt64`, `uint64`). */
    IPC_FLOAT32 = 9,     /**< float, 4 bytes (`Float32`, `float32`). */
    IPC_FLOAT64 = 10,    /**< double, 8 bytes (`Float64`, `float64`). */
    IPC_COMPLEXF32 = 11, /**< Two floats, real then imaginary, 8 bytes (`ComplexF32`, `complex64`). */
    IPC_COMPLEXF64 = 12  /**< Two doubles, real then imaginary, 16 bytes (`ComplexF64`, `complex128`). */
};

/** @brief Constants of the header layout. */
enum {
    IPC_ARRAY_MAGIC = 0x57412D31, /**< The magic number "WA-1": bytes `31 2D 41 57` in memory. */
    IPC_ARRAY_MAXDIMS = 32,       /**< The largest rank libipc creates or accepts (numpy's limit). */
    IPC_ARRAY_ALIGN = 64          /**< The data offset is a multiple of this many bytes. */
};

/**
 * @brief Creates a shared memory object holding a new array, zero-filled.
 *
 * The object is exactly `ipc_array_header_size(ndims) + bytes` long. The
 * header is written before any other process can open a POSIX object; a
 * System V segment is visible at once, so the magic is stored last and an
 * early opener gets `-EAGAIN`.
 *
 * With ::IPC_OPEN_OR_CREATE an existing object is opened instead, provided
 * its header is valid and has the same element type and dimensions;
 * otherwise `-EEXIST` (a different array is there) or `-EBADMSG` (not a
 * valid header). If the existing header is not published yet, this waits up
 * to one second for it, then gives `-EAGAIN`.
 *
 * @param[out] out  Receives the new handle, owned by the caller (close it with
 *                  ipc_array_close()); set to NULL on failure.
 * @param address   `/name`, `key:<n>` or `private` (see ipc/shm.h).
 * @param eltype    Element type code, ::IPC_INT8 .. ::IPC_COMPLEXF64.
 * @param ndims     Rank, 1 .. ::IPC_ARRAY_MAXDIMS.
 * @param dims      `ndims` dimensions, each at least 1, the first varying fastest.
 * @param mode      Permission bits as for ipc_shm_create(); 0 means 0600.
 * @param flags     ::IPC_UNLINK_ON_CLOSE, ::IPC_OPEN_OR_CREATE, or 0.
 * @return 0, or `-EINVAL` (NULL `out`, `address` or `dims`; unknown type code;
 *         rank outside 1 .. ::IPC_ARRAY_MAXDIMS; a dimension below 1; sizes
 *         that overflow; bad address, mode or flags), `-EEXIST`, `-EBADMSG`,
 *         `-EAGAIN`, `-EACCES`, `-ENOMEM`, `-ENOSPC` or another negated `errno`.
 */
IPC_API int ipc_array_create(ipc_array **out, const char *address, int eltype, int ndims,
                             const int64_t *dims, uint32_t mode, uint32_t flags);

/**
 * @brief Opens the array stored in an existing shared memory object.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param address   `/name`, `key:<n>` or `shmid:<n>`.
 * @param flags     ::IPC_RDONLY to map read-only (a write then raises
 *                  `SIGSEGV`), ::IPC_UNLINK_ON_CLOSE to remove the object when
 *                  this handle is closed, or 0.
 * @return 0, or `-ENOENT` (no such object), `-EAGAIN` (magic still 0: the
 *         header is not published yet, or the object is not an array),
 *         `-EBADMSG` (invalid header; the message names the field),
 *         `-EINVAL` (bad address or flags), `-EACCES`, or another negated `errno`.
 */
IPC_API int ipc_array_open(ipc_array **out, const char *address, uint32_t flags);

/**
 * @brief Makes a handle for an array whose header is already in memory that
 *        the caller owns (for example inside a larger shared memory object).
 *
 * The header is validated against `size` as ipc_array_open() does. The handle
 * does not own the memory: keep it mapped until ipc_array_close().
 *
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      Start of the header, aligned to 8 bytes.
 * @param size      Bytes available from `addr`; nothing beyond is read.
 * @param flags     ::IPC_RDONLY (ipc_array_readonly() then reports 1; the
 *                  memory's protection is unchanged), or 0.
 * @return 0, or `-EAGAIN` (magic still 0), `-EBADMSG` (invalid header),
 *         `-EINVAL` (NULL `out` or `addr`, `addr` not 8-byte aligned, bad flags).
 */
IPC_API int ipc_array_wrap(ipc_array **out, void *addr, size_t size, uint32_t flags);

/**
 * @brief Writes an array header into memory the caller owns, for
 *        ipc_array_wrap() here or `WrappedArray` in Julia.
 *
 * Stores 0 in the magic first, then the fields, zeros in the padding up to
 * the data offset, and the magic last with release ordering. The elements
 * are not touched. Do not rewrite a header that readers are validating at
 * the same moment.
 *
 * @param addr    Start of the header, aligned to 8 bytes.
 * @param size    Bytes available from `addr`: at least
 *                `ipc_array_header_size(ndims)` plus the data bytes.
 * @param eltype  Element type code.
 * @param ndims   Rank, 1 .. ::IPC_ARRAY_MAXDIMS.
 * @param dims    `ndims` dimensions, each at least 1.
 * @return 0, or `-EINVAL` (NULL `addr` or `dims`, misaligned `addr`, unknown
 *         type, bad rank or dimension, overflowing sizes, `size` too small).
 * @par Thread safety: safe, but concurrent writers of one header race.
 */
IPC_API int ipc_array_write_header(void *addr, size_t size, int eltype, int ndims,
                                   const int64_t *dims);

/**
 * @brief Closes the handle: unmaps the shared memory object (and with
 *        ::IPC_UNLINK_ON_CLOSE removes it), or for a wrapped array just frees
 *        the handle, leaving the memory alone.
 * @param arr A handle, or NULL (a no-op).
 * @return 0, or `-EBADF` for a handle that is not a live array handle.
 */
IPC_API int ipc_array_close(ipc_array *arr);

/**
 * @brief The first element, `ipc_array_header_size(ndims)` bytes after the
 *        start of the object, aligned to 64 bytes within it.
 * @param arr A handle.
 * @return The address, valid until ipc_array_close(); NULL for a bad handle
 *         (see ipc_last_error()). The handle keeps ownership. Do not write
 *         through it when ipc_array_readonly() is 1.
 */
IPC_API void *ipc_array_data(const ipc_array *arr);

/**
 * @brief The element type code.
 * @param arr A handle.
 * @return ::IPC_INT8 .. ::IPC_COMPLEXF64, or `-EBADF`.
 */
IPC_API int ipc_array_eltype(const ipc_array *arr);

/**
 * @brief The size of one element of a type, in bytes.
 * @param eltype An element type code (use ipc_array_eltype() for a handle's).
 * @return 1, 2, 4, 8 or 16; 0 for an unknown code (see ipc_last_error()).
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_array_elsize(int eltype);

/**
 * @brief The rank (number of dimensions).
 * @param arr A handle.
 * @return 1 .. ::IPC_ARRAY_MAXDIMS, or `-EBADF`.
 */
IPC_API int ipc_array_ndims(const ipc_array *arr);

/**
 * @brief One dimension.
 * @param arr A handle.
 * @param k   0 .. ndims-1; dimension 0 varies fastest.
 * @return The dimension (at least 1), or `-EBADF`, or `-EINVAL` for `k` out
 *         of range.
 */
IPC_API int64_t ipc_array_dim(const ipc_array *arr, int k);

/**
 * @brief The number of elements, the product of the dimensions.
 * @param arr A handle.
 * @return The count (at least 1), or `-EBADF`.
 */
IPC_API int64_t ipc_array_length(const ipc_array *arr);

/**
 * @brief The size of the elements in bytes: element size times length.
 * @param arr A handle.
 * @return The size (at least 1), or 0 for a bad handle (see ipc_last_error()).
 */
IPC_API size_t ipc_array_bytes(const ipc_array *arr);

/**
 * @brief The size of the header of a rank, which is the data offset:
 *        `16 + 8*ndims` rounded up to a multiple of ::IPC_ARRAY_ALIGN.
 * @param ndims A rank, 1 .. ::IPC_ARRAY_MAXDIMS.
 * @return The size in bytes (64 for ranks 1 to 6, 128 for 7 to 14, ...), or
 *         0 for a rank out of range (see ipc_last_error()).
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_array_header_size(int ndims);

/**
 * @brief The address string by which other processes open the array, as
 *        ipc_shm_address(): `/name`, or `shmid:<n>` for System V segments.
 * @param arr       A handle.
 * @param[out] buf  Receives the NUL-terminated string.
 * @param cap       Room in `buf`; ::IPC_ADDRESS_MAX is always enough.
 * @return The length of the string (without NUL), or `-EBADF`, `-EINVAL`
 *         (NULL `buf`, or a wrapped array, which has no address), `-ERANGE`
 *         (`cap` too small; nothing written).
 */
IPC_API int ipc_array_address(const ipc_array *arr, char *buf, size_t cap);

/**
 * @brief Whether the handle was opened or wrapped with ::IPC_RDONLY.
 * @param arr A handle.
 * @return 1 (read-only), 0 (read-write), or `-EBADF`.
 */
IPC_API int ipc_array_readonly(const ipc_array *arr);

#ifdef __cplusplus
}
#endif

#endif /* IPC_ARRAY_H */
