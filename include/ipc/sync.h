/**
 * @file ipc/sync.h
 * @brief Process-shared locks: robust mutexes, condition variables and
 *        read/write locks, in shared memory or as named objects.
 *
 * Each lock exists in two forms:
 * - **in memory**: ..._init() sets up a lock at an address inside any shared
 *   memory mapping (for example one from ipc_shm_create()), and other
 *   processes that map the same memory call ..._attach() at their own address
 *   of it. The memory needs ..._size() bytes, aligned to ::IPC_SYNC_ALIGN. A
 *   small header (magic, kind, state) sits before the lock itself, so
 *   attaching to memory that holds no initialised lock of that kind gives
 *   `-EBADMSG` instead of undefined behaviour. The memory stays the caller's:
 *   closing the handle leaves the lock in place.
 * - **named**: ..._create() makes a POSIX shared memory object `/name` holding
 *   one lock, ..._open() opens it from any process, ..._unlink() removes the
 *   name. A named lock appears under its name only once it is fully
 *   initialised, so no process ever sees one half made; an object under the
 *   name that does not hold a ready lock of the right kind gives `-EBADMSG` at
 *   once, never a hang. Names follow the rules of ipc/shm.h: one leading `/`,
 *   no other `/`, 1 to 255 bytes after it.
 *
 * Mutexes are robust and error-checking: when the owner dies holding one, the
 * next locker gets `-EOWNERDEAD` and holds the lock; it repairs the protected
 * state and calls ipc_mutex_consistent(). Unlocking without that makes the
 * mutex unusable: every later lock gives `-ENOTRECOVERABLE`. Unlocking a
 * mutex the caller does not hold gives `-EPERM`; locking one the calling
 * thread already holds gives `-EDEADLK`.
 *
 * Timed forms take a relative timeout in seconds measured on
 * `CLOCK_MONOTONIC` (a wall-clock jump changes nothing): `0` polls, `+inf`
 * blocks, NaN or negative is `-EINVAL`, and `-ETIMEDOUT` means the time ran
 * out. Try forms return `-EAGAIN` at once when the lock is held elsewhere.
 * Lock waits are not interrupted by signal handlers (they resume, as pthread
 * waits do), and a condition wait may return 0 without a signal (a spurious
 * wake-up): always wait in a loop that checks the condition. A signal handler
 * that runs during a condition wait ends it that way, so the loop sees what
 * the handler did; to stay responsive to signals in lock waits, wait with a
 * timeout in a loop.
 *
 * Mutexes are pthread's robust mutexes. Condition variables are libipc's own,
 * on a futex, because pthread's process-shared ones do not survive a crash:
 * with glibc (2.36 at least) a waiter killed inside pthread_cond_wait() leaves
 * the condition waiting for it, and later waiters are never woken. Here a
 * waiter killed in its wait costs later signals one spare system call each,
 * and nothing else.
 *
 * Thread safety: every function may be called from several threads at once
 * on the same handle, except ..._close(), which must not race with them.
 * A child made by `fork` may use the handles it inherits: the memory stays
 * shared. Its copy of a handle made with ::IPC_UNLINK_ON_CLOSE removes the
 * name when that copy is closed, as the original would.
 */
#ifndef IPC_SYNC_H
#define IPC_SYNC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A process-shared, robust, error-checking mutex. Opaque. */
typedef struct ipc_mutex ipc_mutex;
/** @brief A process-shared condition variable on `CLOCK_MONOTONIC`. Opaque. */
typedef struct ipc_cond ipc_cond;
/** @brief A process-shared read/write lock. Opaque. */
typedef struct ipc_rwlock ipc_rwlock;

/** @brief Constants of the locks. */
enum {
    /** Alignment, in bytes, that the address given to ..._init() and
     *  ..._attach() must have. */
    IPC_SYNC_ALIGN = 8,
    /** Flag of ipc_rwlock_init() and ipc_rwlock_create(): waiting writers go
     *  before new readers, so a stream of readers cannot starve a writer. A
     *  thread must then not take a second read lock while it holds one (it
     *  could wait behind a writer that waits for it). */
    IPC_RWLOCK_PREFER_WRITER = 0x100
};

/* ------------------------------------------------------------------ mutex */

/**
 * @brief The room a mutex needs in memory, header included.
 * @return The size in bytes for ipc_mutex_init() and ipc_mutex_attach().
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_mutex_size(void);

/**
 * @brief Initialises a mutex at an address in shared memory and returns a
 *        handle to it.
 *
 * Whatever the memory held is overwritten: no process may be using a lock
 * there. The memory must stay mapped until the handle is closed.
 * @param[out] out  Receives the new handle, owned by the caller (close it
 *                  with ipc_mutex_close(), which leaves the mutex in place);
 *                  NULL on failure.
 * @param addr      Where the mutex goes, aligned to ::IPC_SYNC_ALIGN, in
 *                  memory mapped read-write.
 * @param avail     Bytes available at `addr`, at least ipc_mutex_size().
 * @param flags     Reserved, 0.
 * @return 0, or `-EINVAL` (NULL argument, misaligned `addr`, `avail` too
 *         small, unknown flags), `-ENOMEM`.
 */
IPC_API int ipc_mutex_init(ipc_mutex **out, void *addr, size_t avail, uint32_t flags);

/**
 * @brief Returns a handle to a mutex that a process initialised at this
 *        place of the shared memory (ipc_mutex_init()).
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      This process's address of the mutex, aligned to ::IPC_SYNC_ALIGN.
 * @param avail     Bytes available at `addr`, at least ipc_mutex_size().
 * @return 0, or `-EINVAL` (NULL argument, misaligned `addr`, `avail` too
 *         small), `-EBADMSG` (the memory holds no initialised mutex).
 */
IPC_API int ipc_mutex_attach(ipc_mutex **out, void *addr, size_t avail);

/**
 * @brief Creates a named mutex (a POSIX shared memory object holding it).
 *
 * Creation is exclusive unless `flags` has ::IPC_OPEN_OR_CREATE: then any
 * number of processes may race to create or open the same name and all end
 * up sharing one mutex.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @param mode      Permission bits (at most 0777); 0 means 0600. Owner read
 *                  and write are always added; the umask does not apply.
 * @param flags     ::IPC_OPEN_OR_CREATE, ::IPC_UNLINK_ON_CLOSE (the handle
 *                  removes the name when closed), or 0.
 * @return 0, or `-EINVAL` (bad name, mode or flags), `-EEXIST`, `-EACCES`,
 *         `-EBADMSG` (::IPC_OPEN_OR_CREATE found an object under the name
 *         that holds no ready mutex), or another negated `errno`.
 */
IPC_API int ipc_mutex_create(ipc_mutex **out, const char *name, uint32_t mode, uint32_t flags);

/**
 * @brief Opens a named mutex.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @return 0, or `-ENOENT`, `-EINVAL` (bad name), `-EACCES`, `-EBADMSG` (the
 *         object holds no ready mutex).
 */
IPC_API int ipc_mutex_open(ipc_mutex **out, const char *name);

/**
 * @brief Frees the handle (and unmaps a named mutex, removing its name if it
 *        was made with ::IPC_UNLINK_ON_CLOSE). The mutex itself stays, and a
 *        lock this process holds stays held.
 *
 * A named mutex that the calling thread holds stays mapped until the process
 * ends, so that the kernel can still mark it owner-dead should the thread die
 * holding it (ipc_shm_close() does the same for memory that holds a mutex
 * made with ipc_mutex_init()); unlock first to get the memory back. Memory
 * unmapped by other means while a thread holds a mutex in it (`munmap`, or
 * another thread closing) loses that: the mutex stays locked for ever if the
 * holder dies, so unlock before.
 * @param m A handle, or NULL (a no-op).
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_mutex_close(ipc_mutex *m);

/**
 * @brief Locks the mutex, waiting as long as it takes (after the bounded
 *        spin of ipc_mutex_set_spin(), if any).
 * @param m A handle.
 * @return 0 (held); `-EOWNERDEAD` (held, but its previous owner died holding
 *         it: repair the state, then call ipc_mutex_consistent());
 *         `-ENOTRECOVERABLE` (not held: the mutex was unlocked after an
 *         owner's death without ipc_mutex_consistent() and is unusable);
 *         `-EDEADLK` (the calling thread holds it already); `-EBADF`.
 */
IPC_API int ipc_mutex_lock(ipc_mutex *m);

/**
 * @brief Locks the mutex if it is free, without waiting.
 * @param m A handle.
 * @return As ipc_mutex_lock(), and `-EAGAIN` when it is held (by anyone,
 *         the calling thread included).
 */
IPC_API int ipc_mutex_trylock(ipc_mutex *m);

/**
 * @brief Locks the mutex, waiting at most `seconds`.
 * @param m        A handle.
 * @param seconds  Relative timeout on `CLOCK_MONOTONIC`: 0 polls, `+inf`
 *                 waits forever.
 * @return As ipc_mutex_lock(), and `-ETIMEDOUT` when the time ran out,
 *         `-EINVAL` for a NaN or negative timeout.
 */
IPC_API int ipc_mutex_timedlock(ipc_mutex *m, double seconds);

/**
 * @brief Unlocks the mutex.
 * @param m A handle.
 * @return 0, or `-EPERM` (the calling thread does not hold it), `-EBADF`.
 */
IPC_API int ipc_mutex_unlock(ipc_mutex *m);

/**
 * @brief Marks a mutex consistent again after ipc_mutex_lock() (or a try,
 *        timed or condition wait) returned `-EOWNERDEAD`; the caller keeps
 *        holding it and unlocks it as usual.
 * @param m A handle.
 * @return 0, or `-EINVAL` (the mutex is not in that state), `-EBADF`.
 */
IPC_API int ipc_mutex_consistent(ipc_mutex *m);

/**
 * @brief Sets how long lock waits on this handle poll the mutex in user
 *        space before sleeping in the kernel. With a holder running on
 *        another core this saves the cost of a sleep and a wake-up.
 * @param m            A handle.
 * @param nanoseconds  Longest spin, 0 (the default) for none.
 * @return 0, or `-EINVAL` (negative), `-EBADF`.
 */
IPC_API int ipc_mutex_set_spin(ipc_mutex *m, int64_t nanoseconds);

/**
 * @brief Removes the name of a named mutex. Processes that have it open keep
 *        using it.
 * @param name `/name`.
 * @return 0, or `-ENOENT` (no such name), `-EINVAL` (bad name), `-EACCES`.
 */
IPC_API int ipc_mutex_unlink(const char *name);

/* ------------------------------------------------------ condition variable */

/**
 * @brief The room a condition variable needs in memory, header included.
 * @return The size in bytes for ipc_cond_init() and ipc_cond_attach().
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_cond_size(void);

/**
 * @brief Initialises a condition variable at an address in shared memory.
 *        As ipc_mutex_init().
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      Where it goes, aligned to ::IPC_SYNC_ALIGN.
 * @param avail     Bytes available at `addr`, at least ipc_cond_size().
 * @param flags     Reserved, 0.
 * @return 0, or `-EINVAL` (NULL argument, misaligned, too small, unknown
 *         flags), `-ENOMEM`.
 */
IPC_API int ipc_cond_init(ipc_cond **out, void *addr, size_t avail, uint32_t flags);

/**
 * @brief Returns a handle to a condition variable initialised at this place
 *        of the shared memory. As ipc_mutex_attach().
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      This process's address of it, aligned to ::IPC_SYNC_ALIGN.
 * @param avail     Bytes available at `addr`, at least ipc_cond_size().
 * @return 0, or `-EINVAL`, `-EBADMSG` (no initialised condition variable there).
 */
IPC_API int ipc_cond_attach(ipc_cond **out, void *addr, size_t avail);

/**
 * @brief Creates a named condition variable. As ipc_mutex_create().
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @param mode      Permission bits (at most 0777); 0 means 0600.
 * @param flags     ::IPC_OPEN_OR_CREATE, ::IPC_UNLINK_ON_CLOSE, or 0.
 * @return 0, or `-EINVAL`, `-EEXIST`, `-EACCES`, `-EBADMSG`, or another
 *         negated `errno`.
 */
IPC_API int ipc_cond_create(ipc_cond **out, const char *name, uint32_t mode, uint32_t flags);

/**
 * @brief Opens a named condition variable.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @return 0, or `-ENOENT`, `-EINVAL`, `-EACCES`, `-EBADMSG`.
 */
IPC_API int ipc_cond_open(ipc_cond **out, const char *name);

/**
 * @brief Frees the handle; the condition variable itself stays. As
 *        ipc_mutex_close().
 * @param c A handle, or NULL (a no-op).
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_cond_close(ipc_cond *c);

/**
 * @brief Atomically unlocks `m` and waits for a signal or broadcast, then
 *        locks `m` again before returning. The caller must hold `m`, and all
 *        waiters of one condition variable must use the same mutex.
 * @param c  A handle.
 * @param m  A mutex handle, held by the calling thread.
 * @return 0 (`m` held again; possibly a spurious wake-up), `-EOWNERDEAD`
 *         (`m` held again, its last owner died: see ipc_mutex_lock()),
 *         `-ENOTRECOVERABLE`, `-EPERM` (the caller does not hold `m`; nothing
 *         waited), `-EBADF` (either handle).
 */
IPC_API int ipc_cond_wait(ipc_cond *c, ipc_mutex *m);

/**
 * @brief As ipc_cond_wait(), waiting at most `seconds` on `CLOCK_MONOTONIC`.
 * @param c        A handle.
 * @param m        A mutex handle, held by the calling thread.
 * @param seconds  Relative timeout: 0 only releases and retakes `m`, `+inf`
 *                 waits forever.
 * @return As ipc_cond_wait(), and `-ETIMEDOUT` (`m` held again) when the
 *         time ran out, `-EINVAL` for a NaN or negative timeout (nothing
 *         waited).
 */
IPC_API int ipc_cond_timedwait(ipc_cond *c, ipc_mutex *m, double seconds);

/**
 * @brief Wakes at least one waiter, if any.
 * @param c A handle.
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_cond_signal(ipc_cond *c);

/**
 * @brief Wakes every waiter.
 * @param c A handle.
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_cond_broadcast(ipc_cond *c);

/**
 * @brief Sets how long waits on this handle poll the condition variable in
 *        user space, after releasing the mutex, before sleeping in the
 *        kernel. With a signaller running on another core this saves the
 *        cost of a sleep and a wake-up; a timed wait never spins past its
 *        timeout.
 * @param c            A handle.
 * @param nanoseconds  Longest spin, 0 (the default) for none.
 * @return 0, or `-EINVAL` (negative), `-EBADF`.
 */
IPC_API int ipc_cond_set_spin(ipc_cond *c, int64_t nanoseconds);

/**
 * @brief Removes the name of a named condition variable.
 * @param name `/name`.
 * @return 0, or `-ENOENT`, `-EINVAL`, `-EACCES`.
 */
IPC_API int ipc_cond_unlink(const char *name);

/* ------------------------------------------------------- read/write lock */

/**
 * @brief The room a read/write lock needs in memory, header included.
 * @return The size in bytes for ipc_rwlock_init() and ipc_rwlock_attach().
 * @par Thread safety: safe.
 */
IPC_API size_t ipc_rwlock_size(void);

/**
 * @brief Initialises a read/write lock at an address in shared memory. As
 *        ipc_mutex_init().
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      Where it goes, aligned to ::IPC_SYNC_ALIGN.
 * @param avail     Bytes available at `addr`, at least ipc_rwlock_size().
 * @param flags     ::IPC_RWLOCK_PREFER_WRITER, or 0 (readers go first).
 * @return 0, or `-EINVAL` (NULL argument, misaligned, too small, unknown
 *         flags), `-ENOMEM`.
 */
IPC_API int ipc_rwlock_init(ipc_rwlock **out, void *addr, size_t avail, uint32_t flags);

/**
 * @brief Returns a handle to a read/write lock initialised at this place of
 *        the shared memory. As ipc_mutex_attach().
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param addr      This process's address of it, aligned to ::IPC_SYNC_ALIGN.
 * @param avail     Bytes available at `addr`, at least ipc_rwlock_size().
 * @return 0, or `-EINVAL`, `-EBADMSG` (no initialised read/write lock there).
 */
IPC_API int ipc_rwlock_attach(ipc_rwlock **out, void *addr, size_t avail);

/**
 * @brief Creates a named read/write lock. As ipc_mutex_create().
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @param mode      Permission bits (at most 0777); 0 means 0600.
 * @param flags     ::IPC_OPEN_OR_CREATE, ::IPC_UNLINK_ON_CLOSE,
 *                  ::IPC_RWLOCK_PREFER_WRITER (for a new lock), or 0.
 * @return 0, or `-EINVAL`, `-EEXIST`, `-EACCES`, `-EBADMSG`, or another
 *         negated `errno`.
 */
IPC_API int ipc_rwlock_create(ipc_rwlock **out, const char *name, uint32_t mode, uint32_t flags);

/**
 * @brief Opens a named read/write lock.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @return 0, or `-ENOENT`, `-EINVAL`, `-EACCES`, `-EBADMSG`.
 */
IPC_API int ipc_rwlock_open(ipc_rwlock **out, const char *name);

/**
 * @brief Frees the handle; the lock itself stays. As ipc_mutex_close().
 * @param rw A handle, or NULL (a no-op).
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_rwlock_close(ipc_rwlock *rw);

/**
 * @brief Takes a read lock, shared with other readers, waiting while a
 *        writer holds the lock.
 * @param rw A handle.
 * @return 0, or `-EDEADLK` (the calling thread holds the write lock),
 *         `-EAGAIN` (too many read locks), `-EBADF`.
 */
IPC_API int ipc_rwlock_rdlock(ipc_rwlock *rw);

/**
 * @brief Takes a read lock if no writer holds the lock, without waiting.
 * @param rw A handle.
 * @return 0, or `-EAGAIN` (a writer holds it), `-EBADF`.
 */
IPC_API int ipc_rwlock_tryrdlock(ipc_rwlock *rw);

/**
 * @brief Takes a read lock, waiting at most `seconds`.
 * @param rw       A handle.
 * @param seconds  Relative timeout on `CLOCK_MONOTONIC`: 0 polls, `+inf`
 *                 waits forever.
 * @return As ipc_rwlock_rdlock(), and `-ETIMEDOUT`, `-EINVAL` (NaN or
 *         negative timeout).
 */
IPC_API int ipc_rwlock_timedrdlock(ipc_rwlock *rw, double seconds);

/**
 * @brief Takes the write lock, alone, waiting while anyone holds the lock.
 * @param rw A handle.
 * @return 0, or `-EDEADLK` (the calling thread holds the write lock), `-EBADF`.
 */
IPC_API int ipc_rwlock_wrlock(ipc_rwlock *rw);

/**
 * @brief Takes the write lock if nobody holds the lock, without waiting.
 * @param rw A handle.
 * @return 0, or `-EAGAIN` (held), `-EBADF`.
 */
IPC_API int ipc_rwlock_trywrlock(ipc_rwlock *rw);

/**
 * @brief Takes the write lock, waiting at most `seconds`.
 * @param rw       A handle.
 * @param seconds  Relative timeout on `CLOCK_MONOTONIC`: 0 polls, `+inf`
 *                 waits forever.
 * @return As ipc_rwlock_wrlock(), and `-ETIMEDOUT`, `-EINVAL` (NaN or
 *         negative timeout).
 */
IPC_API int ipc_rwlock_timedwrlock(ipc_rwlock *rw, double seconds);

/**
 * @brief Releases the read lock or the write lock the calling thread holds.
 *
 * Read/write locks are not robust: a process that dies holding one leaves it
 * held. Use a mutex where owners may die.
 * @param rw A handle.
 * @return 0, or `-EPERM` (the lock is not held at all, or its writer is
 *         another thread; a read lock held only by others is not detected),
 *         `-EBADF`.
 */
IPC_API int ipc_rwlock_unlock(ipc_rwlock *rw);

/**
 * @brief Removes the name of a named read/write lock.
 * @param name `/name`.
 * @return 0, or `-ENOENT`, `-EINVAL`, `-EACCES`.
 */
IPC_API int ipc_rwlock_unlink(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* IPC_SYNC_H */
