/**
 * @file ipc/mq.h
 * @brief POSIX message queues: messages with a priority, delivered whole.
 *
 * A queue is named like any POSIX object: `/name`, one leading `/`, no other
 * `/`, 1 to 255 bytes after the slash, not `.` or `..`. It holds at most
 * `capacity` messages of at most `msgsize` bytes each, both fixed when it is
 * created. A receive takes the oldest message of the highest priority.
 * Queues persist until unlinked, unless the creating handle was made with
 * ::IPC_UNLINK_ON_CLOSE.
 *
 * System limits (Linux): `capacity` may not exceed
 * `/proc/sys/fs/mqueue/msg_max` and `msgsize` may not exceed
 * `/proc/sys/fs/mqueue/msgsize_max` (libipc applies them to every user,
 * root included, so a program behaves the same for everyone); the memory of
 * all the queues of a user counts against `RLIMIT_MSGQUEUE` (`ulimit -q`);
 * `/proc/sys/fs/mqueue/queues_max` bounds the number of queues.
 *
 * Every send and receive has three forms: blocking, `try` (`-EAGAIN` at once
 * when the queue is full or empty) and timed (relative seconds measured on
 * `CLOCK_MONOTONIC`; 0 polls; `+inf` blocks; NaN or negative is `-EINVAL`;
 * `-ETIMEDOUT` when the time runs out). A blocking or timed call interrupted
 * by a signal handler returns `-EINTR` (unless the handler was installed
 * with `SA_RESTART`, in which case the kernel restarts the call).
 *
 * Thread safety: all functions may be called from several threads at once on
 * the same handle, except ipc_mq_close(), which must not race with them.
 */
#ifndef IPC_MQ_H
#define IPC_MQ_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open message queue. Opaque. */
typedef struct ipc_mq ipc_mq;

/**
 * @brief Creates a message queue, open for reading and writing.
 *
 * Creation is exclusive: an existing queue gives `-EEXIST` unless `flags`
 * has ::IPC_OPEN_OR_CREATE, in which case it is opened as it is, provided it
 * can hold at least `capacity` messages of at least `msgsize` bytes
 * (`-EINVAL` otherwise).
 *
 * @param[out] out  Receives the new handle, owned by the caller (close it
 *                  with ipc_mq_close()); set to NULL on failure.
 * @param name      `/name`.
 * @param capacity  Maximum number of messages in the queue, at least 1; 0
 *                  means the system default (`/proc/sys/fs/mqueue/msg_default`).
 * @param msgsize   Maximum size of a message in bytes, at least 1; 0 means the
 *                  system default (`/proc/sys/fs/mqueue/msgsize_default`).
 * @param mode      Permission bits (at most 0777); 0 means 0600. Owner read
 *                  and write are always added. The queue gets exactly this
 *                  mode whatever the umask; the umask is never changed.
 * @param flags     ::IPC_UNLINK_ON_CLOSE, ::IPC_OPEN_OR_CREATE, or 0.
 * @return 0, or `-EINVAL` (bad name, mode or flags; negative `capacity` or
 *         `msgsize`; a value beyond the system limit, the message names the
 *         limit and the file where it is set), `-EEXIST`, `-EACCES`,
 *         `-EMFILE` (`RLIMIT_MSGQUEUE` reached, or no descriptor left),
 *         `-ENOSPC` (`queues_max` reached), or another negated `errno`.
 */
IPC_API int ipc_mq_create(ipc_mq **out, const char *name, int64_t capacity, int64_t msgsize,
                          uint32_t mode, uint32_t flags);

/**
 * @brief Opens an existing message queue.
 * @param[out] out  Receives the new handle, owned by the caller; NULL on failure.
 * @param name      `/name`.
 * @param flags     ::IPC_RDONLY (receive only), ::IPC_WRONLY (send only),
 *                  neither (both), optionally or-ed with ::IPC_UNLINK_ON_CLOSE
 *                  to remove the name when this handle is closed.
 * @return 0, or `-ENOENT` (no such queue), `-EINVAL` (bad name or flags,
 *         ::IPC_RDONLY with ::IPC_WRONLY), `-EACCES`, or another negated `errno`.
 */
IPC_API int ipc_mq_open(ipc_mq **out, const char *name, uint32_t flags);

/**
 * @brief Closes the queue's descriptor and frees the handle. With
 *        ::IPC_UNLINK_ON_CLOSE it also removes the name, if the name still
 *        belongs to this queue. Messages stay for other processes that have
 *        the queue open.
 * @param q A handle, or NULL (a no-op).
 * @return 0, or `-EBADF` for a handle that is not a live message queue handle.
 */
IPC_API int ipc_mq_close(ipc_mq *q);

/**
 * @brief Sends a message, waiting while the queue is full.
 * @param q         A handle open for writing.
 * @param msg       The message; may be NULL only when `len` is 0.
 * @param len       Its length, at most ipc_mq_msgsize().
 * @param priority  0 (lowest) to ipc_mq_priority_max().
 * @return 0, or `-EBADF` (bad handle, or one open for reading only),
 *         `-EMSGSIZE` (`len` beyond the queue's message size), `-EINVAL`
 *         (NULL `msg` with a non-zero `len`, priority beyond the maximum),
 *         `-EINTR` (a signal handler ran).
 */
IPC_API int ipc_mq_send(ipc_mq *q, const void *msg, size_t len, uint32_t priority);

/**
 * @brief Sends a message if the queue has room, without waiting.
 * @param q         A handle open for writing.
 * @param msg       The message; may be NULL only when `len` is 0.
 * @param len       Its length, at most ipc_mq_msgsize().
 * @param priority  0 (lowest) to ipc_mq_priority_max().
 * @return 0, `-EAGAIN` when the queue is full, or the codes of ipc_mq_send().
 */
IPC_API int ipc_mq_trysend(ipc_mq *q, const void *msg, size_t len, uint32_t priority);

/**
 * @brief Sends a message, waiting at most `seconds` while the queue is full.
 * @param q         A handle open for writing.
 * @param msg       The message; may be NULL only when `len` is 0.
 * @param len       Its length, at most ipc_mq_msgsize().
 * @param priority  0 (lowest) to ipc_mq_priority_max().
 * @param seconds   Relative timeout on `CLOCK_MONOTONIC`; 0 polls, `+inf`
 *                  waits forever.
 * @return 0, `-ETIMEDOUT` when the time ran out, `-EINVAL` (NaN or negative
 *         `seconds`), or the codes of ipc_mq_send().
 */
IPC_API int ipc_mq_timedsend(ipc_mq *q, const void *msg, size_t len, uint32_t priority,
                             double seconds);

/**
 * @brief Receives the oldest message of the highest priority, waiting while
 *        the queue is empty.
 * @param q              A handle open for reading.
 * @param[out] buf       Receives the message.
 * @param cap            Room in `buf`: at least ipc_mq_msgsize(), as the
 *                       system requires even for shorter messages.
 * @param[out] priority  Receives the message's priority; may be NULL.
 * @return The message's length (0 or more), or `-EBADF` (bad handle, or one
 *         open for writing only), `-EMSGSIZE` (`cap` below the queue's message
 *         size), `-EINVAL` (NULL `buf`), `-EINTR` (a signal handler ran).
 */
IPC_API int ipc_mq_receive(ipc_mq *q, void *buf, size_t cap, uint32_t *priority);

/**
 * @brief Receives a message if one is queued, without waiting.
 * @param q              A handle open for reading.
 * @param[out] buf       Receives the message.
 * @param cap            Room in `buf`, at least ipc_mq_msgsize().
 * @param[out] priority  Receives the message's priority; may be NULL.
 * @return The message's length, `-EAGAIN` when the queue is empty, or the
 *         codes of ipc_mq_receive().
 */
IPC_API int ipc_mq_tryreceive(ipc_mq *q, void *buf, size_t cap, uint32_t *priority);

/**
 * @brief Receives a message, waiting at most `seconds` while the queue is empty.
 * @param q              A handle open for reading.
 * @param[out] buf       Receives the message.
 * @param cap            Room in `buf`, at least ipc_mq_msgsize().
 * @param[out] priority  Receives the message's priority; may be NULL.
 * @param seconds        Relative timeout on `CLOCK_MONOTONIC`; 0 polls,
 *                       `+inf` waits forever.
 * @return The message's length, `-ETIMEDOUT` when the time ran out,
 *         `-EINVAL` (NaN or negative `seconds`), or the codes of ipc_mq_receive().
 */
IPC_API int ipc_mq_timedreceive(ipc_mq *q, void *buf, size_t cap, uint32_t *priority,
                                double seconds);

/**
 * @brief Removes a queue's name. The queue lives on until the last process
 *        that has it open closes it.
 * @param name `/name`.
 * @return 0, or `-ENOENT` when there is no such queue, `-EINVAL`, `-EACCES`.
 */
IPC_API int ipc_mq_unlink(const char *name);

/**
 * @brief The number of messages the queue holds at most.
 * @param q A handle.
 * @return The capacity (at least 1), or `-EBADF`.
 */
IPC_API int64_t ipc_mq_capacity(const ipc_mq *q);

/**
 * @brief The largest message the queue accepts, in bytes; also the smallest
 *        receive buffer.
 * @param q A handle.
 * @return The message size (at least 1), or `-EBADF`.
 */
IPC_API int64_t ipc_mq_msgsize(const ipc_mq *q);

/**
 * @brief The number of messages queued right now (a snapshot: other
 *        processes may change it at any time).
 * @param q A handle.
 * @return The count (0 or more), or `-EBADF` or another negated `errno`.
 */
IPC_API int64_t ipc_mq_count(const ipc_mq *q);

/**
 * @brief The queue's file descriptor, for `poll`, `select` or `epoll`: it is
 *        readable when a message is queued and writable when there is room.
 *
 * The handle keeps ownership: do not close the descriptor, and do not change
 * its flags (`O_NONBLOCK`), which other calls on the handle rely on.
 * @param q A handle.
 * @return The descriptor (0 or more), valid until ipc_mq_close(), or `-EBADF`.
 */
IPC_API int ipc_mq_fd(const ipc_mq *q);

/**
 * @brief The highest priority a message may have (`MQ_PRIO_MAX - 1`, 32767
 *        on Linux); 0 is the lowest.
 * @return The maximum priority.
 * @par Thread safety: safe.
 */
IPC_API uint32_t ipc_mq_priority_max(void);

#ifdef __cplusplus
}
#endif

#endif /* IPC_MQ_H */
