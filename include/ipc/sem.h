/**
 * @file ipc/sem.h
 * @brief Semaphores: POSIX named semaphores and process-shared semaphores
 *        placed in any shared memory.
 *
 * A named semaphore (`/name`) is the same object that `sem_open("/name", ...)`
 * of the C library uses, so programs that do not use libipc share it in both
 * directions. Names follow the rules of ipc/shm.h, with at most 251 bytes
 * after the slash (the C library stores the semaphore as a file
 * `sem.<name>`).
 *
 * A semaphore in memory is a plain process-shared `sem_t` of
 * ipc_sem_size() bytes, aligned to ipc_sem_alignment(), at an address inside
 * any shared mapping (for example ipc_shm_addr() plus an offset). One process
 * initialises it with ipc_sem_init(); the others attach to it with
 * ipc_sem_attach() at the same offset of their own mapping. Plain
 * `sem_post`/`sem_wait` calls on that `sem_t` work alongside libipc's.
 *
 * Waits come in three forms: ipc_sem_wait() blocks, ipc_sem_trywait()
 * returns `-EAGAIN` at once, ipc_sem_timedwait() takes relative seconds
 * measured on `CLOCK_MONOTONIC`. A wait interrupted by a signal handler
 * returns `-EINTR` and is not restarted by libipc (the C library restarts it
 * only for a handler installed with `SA_RESTART`).
 *
 * Spinning: with ipc_sem_set_spin() a waiter polls the semaphore in user
 * space for a bounded time before it sleeps in the kernel, which makes a
 * hand-off to a waiter running on another core much faster. The default, 0,
 * sleeps at once.
 *
 * Thread safety: all functions may be called from several threads at once on
 * the same handle, except ipc_sem_close(), which must not race with them.
 */
#ifndef IPC_SEM_H
#define IPC_SEM_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open semaphore, named or in memory. Opaque. */
typedef struct ipc_sem ipc_sem;

/**
 * @brief Creates a named semaphore.
 *
 * Creation is exclusive: an existing semaphore gives `-EEXIST` unless `flags`
 * has ::IPC_OPEN_OR_CREATE, in which case it is opened and `value` and `mode`
 * are ignored. The semaphore appears under its name only once it holds its
 * value and mode, so no other process ever sees it half made.
 *
 * @param[out] out  Receives the new handle, owned by the caller (close it with
 *                  ipc_sem_close()); set to NULL on failure.
 * @param name      `/name`, at most 251 bytes after the slash.
 * @param value     Initial value, at most ipc_sem_value_max().
 * @param mode      Permission bits (at most 0777); 0 means 0600. Owner read
 *                  and write are always added. The semaphore gets exactly this
 *                  mode whatever the umask; the umask is never changed.
 * @param flags     ::IPC_UNLINK_ON_CLOSE (this handle removes the name when it
 *                  is closed), ::IPC_OPEN_OR_CREATE, or 0.
 * @return 0, or `-EINVAL` (bad name, value, mode or flags), `-EEXIST`,
 *         `-EACCES`, `-ENOSPC` or another negated `errno`.
 */
IPC_API int ipc_sem_create(ipc_sem **out, const char *name, uint32_t value, uint32_t mode,
                           uint32_t flags);

/**
 * @brief Opens an existing named semaphore, made by libipc or by `sem_open`.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @return 0, or `-ENOENT` (no such semaphore), `-EACCES` (no read and write
 *         permission), `-EINVAL` (bad name, or the object holds no semaphore),
 *         or another negated `errno`.
 */
IPC_API int ipc_sem_open(ipc_sem **out, const char *name);

/**
 * @brief Initialises a process-shared semaphore in memory (`sem_init` with
 *        `pshared` set) and returns a handle to it.
 *
 * Initialise a semaphore once, before any other process attaches to it, and
 * never while a process waits on it.
 *
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      Where the semaphore goes, aligned to ipc_sem_alignment(),
 *                  inside memory that every user maps shared. The caller keeps
 *                  the memory mapped as long as the handle is used.
 * @param avail     Bytes available at `addr`, at least ipc_sem_size().
 * @param value     Initial value, at most ipc_sem_value_max().
 * @return 0, or `-EINVAL` (`addr` NULL or misaligned, `avail` too small,
 *         `value` too large).
 */
IPC_API int ipc_sem_init(ipc_sem **out, void *addr, size_t avail, uint32_t value);

/**
 * @brief A handle to a semaphore that ipc_sem_init() (or `sem_init` with
 *        `pshared` set) initialised at `addr`, possibly in another process.
 *
 * The memory is checked to hold a process-shared semaphore: zeroed memory,
 * a semaphore initialised for one process only, and a value outside 0 to
 * ipc_sem_value_max() are rejected. A plain `sem_t` carries no signature, so
 * other garbage can pass this check; attach only where a semaphore was put.
 *
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      The semaphore, aligned to ipc_sem_alignment().
 * @param avail     Bytes available at `addr`, at least ipc_sem_size().
 * @return 0, or `-EINVAL` (`addr` NULL or misaligned, `avail` too small, no
 *         process-shared semaphore at `addr`).
 */
IPC_API int ipc_sem_attach(ipc_sem **out, void *addr, size_t avail);

/**
 * @brief Frees the handle. A named semaphore is unmapped, and with
 *        ::IPC_UNLINK_ON_CLOSE its name is removed if it still names this
 *        semaphore. A semaphore in memory is left in place for the processes
 *        that still use it.
 * @param sem A handle, or NULL (a no-op).
 * @return 0, or `-EBADF` for a handle that is not a live semaphore handle.
 */
IPC_API int ipc_sem_close(ipc_sem *sem);

/**
 * @brief Increments the semaphore, waking one waiter if any.
 * @param sem A handle.
 * @return 0, or `-EBADF`, `-EOVERFLOW` (the value is already
 *         ipc_sem_value_max()).
 * @par Async-signal safety: not guaranteed (use `sem_post` in handlers).
 */
IPC_API int ipc_sem_post(ipc_sem *sem);

/**
 * @brief Decrements the semaphore, waiting while its value is 0 (after
 *        spinning for the time set with ipc_sem_set_spin()).
 * @param sem A handle.
 * @return 0, or `-EBADF`, `-EINTR` (a signal handler interrupted the wait;
 *         nothing was taken).
 */
IPC_API int ipc_sem_wait(ipc_sem *sem);

/**
 * @brief Decrements the semaphore if its value is above 0, without waiting.
 * @param sem A handle.
 * @return 0, or `-EAGAIN` (the value is 0), `-EBADF`.
 */
IPC_API int ipc_sem_trywait(ipc_sem *sem);

/**
 * @brief Decrements the semaphore, waiting at most `seconds`.
 * @param sem      A handle.
 * @param seconds  Relative timeout measured on `CLOCK_MONOTONIC` (a change of
 *                 the wall clock does not affect it); 0 polls once, `+inf`
 *                 waits without limit.
 * @return 0, or `-ETIMEDOUT` (the time ran out, a timeout of 0 included),
 *         `-EINVAL` (`seconds` is NaN or negative), `-EINTR`, `-EBADF`.
 */
IPC_API int ipc_sem_timedwait(ipc_sem *sem, double seconds);

/**
 * @brief The current value of the semaphore.
 * @param sem A handle.
 * @return The value (0 or more; 0 when processes are waiting), or `-EBADF`.
 */
IPC_API int ipc_sem_value(ipc_sem *sem);

/**
 * @brief Sets how long waits through this handle poll the semaphore in user
 *        space before they sleep in the kernel.
 *
 * Spinning costs CPU time and pays off only when the poster runs on another
 * core and posts within the spin; the semaphore itself is unchanged and stays
 * usable by plain `sem_t` code and handles without spin.
 *
 * @param sem          A handle.
 * @param nanoseconds  The bound on the polling, at least 0; 0 (the default)
 *                     sleeps at once.
 * @return 0, or `-EINVAL` (negative), `-EBADF`.
 */
IPC_API int ipc_sem_set_spin(ipc_sem *sem, int64_t nanoseconds);

/**
 * @brief Removes the name of a named semaphore. Processes that have it open
 *        keep using it; it is freed when the last one closes it.
 * @param name `/name`.
 * @return 0, or `-ENOENT` when there is no such semaphore, `-EINVAL` (bad
 *         name), `-EACCES`.
 */
IPC_API int ipc_sem_unlink(const char *name);

/**
 * @brief The room a semaphore needs in memory, in bytes (`sizeof(sem_t)`).
 * @return The size, 32 on Linux with glibc.
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_sem_size(void);

/**
 * @brief The alignment a semaphore needs in memory, in bytes
 *        (`alignof(sem_t)`).
 * @return The alignment, a power of two.
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_sem_alignment(void);

/**
 * @brief The largest value a semaphore can hold (`SEM_VALUE_MAX`).
 * @return The maximum, 2147483647 on Linux.
 * @par Thread safety: safe.
 */
IPC_API int ipc_sem_value_max(void);

#ifdef __cplusplus
}
#endif

#endif /* IPC_SEM_H */
