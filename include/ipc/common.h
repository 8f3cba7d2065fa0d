/**
 * @file ipc/common.h
 * @brief Conventions shared by every area: versions, errors, flags, page size.
 *
 * Every fallible function of libipc returns an `int`: `0` (or a non-negative
 * count) on success, or a negated `errno` value on failure, such as `-ENOENT`
 * or `-ETIMEDOUT`. No custom error numbers are used. `ipc_strerror()` names a
 * code and `ipc_last_error()` gives the calling thread's last failure with its
 * context, for example `shm open "/frames": Permission denied`.
 *
 * Ownership: the caller owns what an `..._open` or `..._create` returns through
 * its first out-parameter and ends it with the matching `..._close` (or
 * `..._free` for plain values). Closing NULL is a no-op that returns 0.
 *
 * Thread safety: a handle may be used from several threads at once; only its
 * close must not race with other calls on the same handle.
 */
#ifndef IPC_COMMON_H
#define IPC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Marks a function exported by libipc; everything else is hidden. */
#if defined(IPC_BUILDING_LIBRARY)
#define IPC_API __attribute__((visibility("default")))
#else
#define IPC_API
#endif

/** @brief Major version: changes only when the ABI breaks (it is the soname). */
#define IPC_VERSION_MAJOR 1
/** @brief Minor version: grows when functions or constants are added. */
#define IPC_VERSION_MINOR 0
/** @brief Patch version: grows with fixes that change no interface. */
#define IPC_VERSION_PATCH 0

/**
 * @brief Flags accepted by the create and open functions, or-ed together.
 */
enum {
    IPC_RDONLY = 1,          /**< Open for reading only; memory is mapped read-only. */
    IPC_UNLINK_ON_CLOSE = 2, /**< The creating handle removes the name when closed. */
    IPC_OPEN_OR_CREATE = 4,  /**< Create: open the object instead of failing when it exists. */
    IPC_WRONLY = 8           /**< Open for writing only (message queues). */
};

/**
 * @brief The library's version at run time, which may differ from the macros
 *        a program was compiled with.
 * @param[out] major Receives the major version; may be NULL.
 * @param[out] minor Receives the minor version; may be NULL.
 * @param[out] patch Receives the patch version; may be NULL.
 * @par Thread safety: safe.
 */
IPC_API void ipc_version(int *major, int *minor, int *patch);

/**
 * @brief Names an error code.
 * @param code A code returned by libipc (negative) or an `errno` value
 *             (positive); the sign is ignored. 0 gives "Success".
 * @return A static string, never NULL; the caller does not free it.
 * @par Thread safety: safe.
 */
IPC_API const char *ipc_strerror(int code);

/**
 * @brief The message of the calling thread's most recent failure, with its
 *        context, for example `shm open "/frames": Permission denied`.
 *
 * A successful call does not clear it. The message of a thread stays valid
 * until that thread's next failing libipc call.
 * @return A thread-local string, never NULL (empty when nothing failed yet).
 * @par Thread safety: safe; each thread has its own message.
 */
IPC_API const char *ipc_last_error(void);

/**
 * @brief The size of a memory page, in bytes.
 * @return The page size as `sysconf(_SC_PAGESIZE)` reports it.
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_page_size(void);

#ifdef __cplusplus
}
#endif

#endif /* IPC_COMMON_H */
