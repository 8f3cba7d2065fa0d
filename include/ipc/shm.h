/**
 * @file ipc/shm.h
 * @brief Shared memory: POSIX named objects and System V segments.
 *
 * One address string names any shared memory object:
 * - `/name`: a POSIX named object (`shm_open`); one leading `/`, no other
 *   `/`, 1 to 255 bytes after the slash, not `.` or `..`;
 * - `key:<n>`: the System V segment of key n (decimal, or hexadecimal with
 *   `0x`; 0 is not a key, use `private`);
 * - `shmid:<n>`: the System V segment of identifier n;
 * - `private`: a new System V segment made with `IPC_PRIVATE`, reachable by
 *   other processes through `shmid:<n>` (see ipc_shm_address()).
 *
 * A handle maps the whole object. Named objects persist until unlinked,
 * unless the handle was made with ::IPC_UNLINK_ON_CLOSE.
 *
 * Thread safety: all functions may be called from several threads at once on
 * the same handle, except ipc_shm_close(), which must not race with them.
 */
#ifndef IPC_SHM_H
#define IPC_SHM_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open, mapped shared memory object. Opaque. */
typedef struct ipc_shm ipc_shm;

/** @brief Sizes of strings. */
enum {
    IPC_ADDRESS_MAX = 272 /**< Room for any address string, terminating NUL included. */
};

/** @brief The kind of a shared memory object, in ipc_shm_info::kind. */
enum {
    IPC_SHM_POSIX = 1, /**< POSIX named object (`/name`). */
    IPC_SHM_SYSV = 2   /**< System V segment (`key:`, `shmid:`, `private`). */
};

/**
 * @brief What the system knows of a shared memory object. 80 bytes, fixed layout.
 *
 * For System V segments the fields are those of `shmctl(IPC_STAT)`; for POSIX
 * objects those of `fstat`, with the System V-only fields set to -1.
 */
typedef struct ipc_shm_info {
    uint64_t size;   /**< Offset 0: size in bytes. */
    int64_t atime;   /**< Offset 8: last attach (System V) or access (POSIX), seconds since the epoch. */
    int64_t dtime;   /**< Offset 16: last detach (System V) or modification (POSIX), seconds since the epoch. */
    int64_t ctime;   /**< Offset 24: last change of the object's status, seconds since the epoch. */
    int64_t nattch;  /**< Offset 32: number of attached mappings (System V), -1 for POSIX. */
    int32_t kind;    /**< Offset 40: ::IPC_SHM_POSIX or ::IPC_SHM_SYSV. */
    int32_t id;      /**< Offset 44: System V segment identifier, -1 for POSIX. */
    int32_t key;     /**< Offset 48: System V key (0 for private), 0 for POSIX. */
    int32_t cpid;    /**< Offset 52: creator's process id (System V), -1 for POSIX. */
    int32_t lpid;    /**< Offset 56: last process to attach or detach (System V), -1 for POSIX. */
    uint32_t mode;   /**< Offset 60: permission bits, such as 0600. */
    uint32_t uid;    /**< Offset 64: owner's user id. */
    uint32_t gid;    /**< Offset 68: owner's group id. */
    uint32_t cuid;   /**< Offset 72: creator's user id (POSIX: the owner's). */
    uint32_t cgid;   /**< Offset 76: creator's group id (POSIX: the owner's). */
} ipc_shm_info;

/**
 * @brief Creates a shared memory object and maps it read-write.
 *
 * Creation is exclusive: an existing object gives `-EEXIST` unless `flags`
 * has ::IPC_OPEN_OR_CREATE, in which case it is opened (and must be at least
 * `size` bytes). A new POSIX object appears under its name only once it has
 * its size and mode, so no other process ever sees it half made. New memory
 * reads as zeros.
 *
 * @param[out] out     Receives the new handle, owned by the caller (close it
 *                     with ipc_shm_close()); set to NULL on failure.
 * @param address      `/name`, `key:<n>` or `private` (see the file comment).
 * @param size         Size in bytes, at least 1.
 * @param mode         Permission bits (at most 0777); 0 means 0600. Owner read
 *                     and write are always added. The object gets exactly this
 *                     mode whatever the umask; the umask is never changed.
 * @param flags        ::IPC_UNLINK_ON_CLOSE, ::IPC_OPEN_OR_CREATE, or 0.
 * @return 0, or `-EINVAL` (bad address, size, mode or flags), `-EEXIST`,
 *         `-EACCES`, `-ENOMEM`, `-ENOSPC` or another negated `errno`.
 */
IPC_API int ipc_shm_create(ipc_shm **out, const char *address, size_t size, uint32_t mode,
                           uint32_t flags);

/**
 * @brief Opens and maps an existing shared memory object.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param address   `/name`, `key:<n>` or `shmid:<n>`.
 * @param flags     ::IPC_RDONLY to map read-only (`PROT_READ`: a write then
 *                  raises `SIGSEGV`), ::IPC_UNLINK_ON_CLOSE to remove the
 *                  object when this handle is closed, or 0.
 * @return 0, or `-ENOENT` (no such object), `-EINVAL`, `-EACCES`, or another
 *         negated `errno`.
 */
IPC_API int ipc_shm_open(ipc_shm **out, const char *address, uint32_t flags);

/**
 * @brief Unmaps the object and frees the handle. With ::IPC_UNLINK_ON_CLOSE
 *        it also removes the name (POSIX) or marks the segment for removal
 *        (System V). The memory stays valid for other processes that map it.
 *
 * Memory that holds a mutex the calling thread holds (see ipc/sync.h) stays
 * mapped until the process ends: unmapping it would break the thread's list
 * of robust mutexes, so that its next unlock of another mutex could crash
 * and its death would go unnoticed. Unlock first to get the memory back.
 * @param shm A handle, or NULL (a no-op).
 * @return 0, or `-EBADF` for a handle that is not a live shared memory handle.
 */
IPC_API int ipc_shm_close(ipc_shm *shm);

/**
 * @brief The address at which this process maps the object.
 * @param shm A handle.
 * @return The address, valid until ipc_shm_close(); NULL for a bad handle
 *         (see ipc_last_error()). The handle keeps ownership.
 */
IPC_API void *ipc_shm_addr(const ipc_shm *shm);

/**
 * @brief The mapped size in bytes.
 * @param shm A handle.
 * @return The size, or 0 for a bad handle (see ipc_last_error()).
 */
IPC_API size_t ipc_shm_size(const ipc_shm *shm);

/**
 * @brief The address string by which other processes reach the object:
 *        `/name` for POSIX objects, `shmid:<n>` for System V segments.
 * @param shm       A handle.
 * @param[out] buf  Receives the NUL-terminated string.
 * @param cap       Room in `buf`; ::IPC_ADDRESS_MAX is always enough.
 * @return The length of the string (without NUL), or `-EBADF`, `-EINVAL`
 *         (NULL `buf`), `-ERANGE` (`cap` too small; nothing written).
 */
IPC_API int ipc_shm_address(const ipc_shm *shm, char *buf, size_t cap);

/**
 * @brief Whether the handle maps the object read-only.
 * @param shm A handle.
 * @return 1 (read-only), 0 (read-write), or `-EBADF`.
 */
IPC_API int ipc_shm_readonly(const ipc_shm *shm);

/**
 * @brief What the system knows of the object of a handle.
 * @param shm        A handle.
 * @param[out] info  Receives the information.
 * @return 0, or `-EBADF`, `-EINVAL` (NULL `info`), or a negated `errno`.
 */
IPC_API int ipc_shm_fstat(const ipc_shm *shm, ipc_shm_info *info);

/**
 * @brief What the system knows of the object at an address, without mapping it.
 * @param address    `/name`, `key:<n>` or `shmid:<n>`.
 * @param[out] info  Receives the information.
 * @return 0, or `-ENOENT`, `-EINVAL`, `-EACCES`, or another negated `errno`.
 */
IPC_API int ipc_shm_stat(const char *address, ipc_shm_info *info);

/**
 * @brief Changes the permission bits of the object (`fchmod` or
 *        `shmctl(IPC_SET)`); owner read and write are always kept.
 * @param shm   A handle.
 * @param mode  Permission bits, at most 0777.
 * @return 0, or `-EBADF`, `-EINVAL`, `-EPERM`, or another negated `errno`.
 */
IPC_API int ipc_shm_chmod(ipc_shm *shm, uint32_t mode);

/**
 * @brief Removes a shared memory object: the POSIX name, or the System V
 *        segment (which disappears once the last process detaches).
 * @param address `/name`, `key:<n>` or `shmid:<n>`.
 * @return 0, or `-ENOENT` when there is no such object, `-EINVAL`, `-EACCES`,
 *         `-EPERM`.
 */
IPC_API int ipc_shm_unlink(const char *address);

/**
 * @brief A System V key from an existing file and a project number, as `ftok`.
 *        Use it as `key:<n>` (`snprintf(buf, n, "key:%d", key)`).
 * @param path      An existing file.
 * @param proj      Project number, 1 to 255.
 * @param[out] key  Receives the key.
 * @return 0, or `-ENOENT`, `-EINVAL` (NULL argument, `proj` out of range).
 */
IPC_API int ipc_shm_key(const char *path, int proj, int32_t *key);

/**
 * @brief The size of ::ipc_shm_info, for bindings that check their copy of it.
 * @return `sizeof(ipc_shm_info)`, 80.
 */
IPC_API size_t ipc_shm_info_size(void);

#ifdef __cplusplus
}
#endif

#endif /* IPC_SHM_H */
