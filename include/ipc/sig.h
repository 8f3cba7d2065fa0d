/**
 * @file ipc/sig.h
 * @brief Signals: sets, the thread's mask, actions, sending with a value,
 *        waiting, suspending, signalfd, and names.
 *
 * Signal numbers: a valid signal is 1 to 31 or ipc_sig_rtmin() to
 * ipc_sig_rtmax(), both read at run time. Signal 0, negative numbers,
 * numbers above ipc_sig_rtmax() and the two signals the C library keeps for
 * itself (32 and 33 with glibc) give `-EINVAL` everywhere.
 *
 * Waiting: ipc_sig_wait(), ipc_sig_trywait(), ipc_sig_timedwait() and
 * ipc_sig_fd() only see a signal that is blocked in every thread (block it
 * with ipc_sig_mask() before starting threads, or in each thread); a signal
 * that is not blocked goes to its action instead.
 *
 * Julia and Python cannot run their own code inside a signal handler: they
 * install the built-in recording handler (ipc_sig_record()), which counts
 * deliveries and keeps the latest ::ipc_siginfo of each signal, and poll it
 * with ipc_sig_recorded() and ipc_sig_recorded_info(); or they block the
 * signals and use a wait function or a signal descriptor.
 *
 * Thread safety: every function may be called from several threads. A set
 * handle may be used from several threads at once (each single change is
 * atomic); only its free must not race with other calls on it. Actions are
 * process-wide, masks per thread.
 */
#ifndef IPC_SIG_H
#define IPC_SIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A set of signals, a plain value owned by the caller. Opaque. */
typedef struct ipc_sigset ipc_sigset;

/** @brief A saved signal action, to read and restore one. Opaque. */
typedef struct ipc_sigaction ipc_sigaction;

/**
 * @brief What is known of one delivered signal. 40 bytes, fixed layout.
 *
 * Fields that do not apply to the way the signal was sent are 0.
 */
typedef struct ipc_siginfo {
    int32_t signo;  /**< Offset 0: the signal number. */
    int32_t code;   /**< Offset 4: `si_code`: how it was sent, such as `SI_USER` (0, by
                         ipc_sig_send()), `SI_QUEUE` (-1, by ipc_sig_queue()), `SI_TKILL` (-6)
                         or `SI_USER` (by ipc_sig_raise(), depending on the kernel),
                         or a positive code from the kernel. */
    int32_t errnum; /**< Offset 8: `si_errno`, usually 0. */
    int32_t pid;    /**< Offset 12: the sender's process id (sent by a process), or the
                         child's (`SIGCHLD`); 0 otherwise. */
    uint32_t uid;   /**< Offset 16: the sender's real user id, as `pid`. */
    int32_t status; /**< Offset 20: the child's exit status or signal (`SIGCHLD`). */
    int64_t value;  /**< Offset 24: the value sent with ipc_sig_queue() (`sival_ptr`), or
                         of a timer or message queue notification. */
    uint64_t addr;  /**< Offset 32: the faulting address (`SIGSEGV`, `SIGBUS`, `SIGILL`,
                         `SIGFPE` raised by the hardware). */
} ipc_siginfo;

/** @brief How ipc_sig_mask() changes the mask. */
enum {
    IPC_SIG_BLOCK = 0,   /**< Add the set to the mask. */
    IPC_SIG_UNBLOCK = 1, /**< Remove the set from the mask. */
    IPC_SIG_SETMASK = 2  /**< Make the set the mask. */
};

/** @brief What an action does, as ipc_sigaction_kind() reports it. */
enum {
    IPC_SIG_ACTION_DEFAULT = 0, /**< The default action (`SIG_DFL`). */
    IPC_SIG_ACTION_IGNORE = 1,  /**< Ignored (`SIG_IGN`). */
    IPC_SIG_ACTION_HANDLER = 2, /**< A C function installed by ipc_sig_handle(). */
    IPC_SIG_ACTION_INFO = 3,    /**< A C function installed by ipc_sig_handle_info(). */
    IPC_SIG_ACTION_RECORD = 4,  /**< The recording handler of ipc_sig_record(). */
    IPC_SIG_ACTION_FOREIGN = 5  /**< A handler installed without libipc (a runtime's, a test
                                     framework's); it can still be saved and restored. */
};

/** @brief Flags of an action, or-ed; each is the `sigaction` flag of its name. */
enum {
    IPC_SA_RESTART = 1,   /**< `SA_RESTART`: restart system calls interrupted by the handler
                               (libipc's own waits still return `-EINTR`). */
    IPC_SA_NODEFER = 2,   /**< `SA_NODEFER`: do not block the signal while its handler runs. */
    IPC_SA_RESETHAND = 4, /**< `SA_RESETHAND`: back to the default action after one delivery. */
    IPC_SA_ONSTACK = 8,   /**< `SA_ONSTACK`: run the handler on the alternate signal stack. */
    IPC_SA_NOCLDSTOP = 16, /**< `SA_NOCLDSTOP`: no `SIGCHLD` when a child stops or resumes. */
    IPC_SA_NOCLDWAIT = 32  /**< `SA_NOCLDWAIT`: children do not become zombies. */
};

/** @brief Flags of ipc_sig_fd(). */
enum {
    IPC_SIG_FD_NONBLOCK = 1 /**< Reads return `-EAGAIN` at once when no signal is pending. */
};

/** @brief Sizes of strings. */
enum {
    IPC_SIG_NAME_MAX = 16 /**< Room for any name of ipc_sig_name(), terminating NUL included. */
};

/**
 * @brief A C signal handler installed with ipc_sig_handle().
 *
 * It runs inside a signal handler: it may only call async-signal-safe
 * functions. `errno` is saved and restored around it.
 * @param signo  The signal delivered.
 * @param user   The pointer given to ipc_sig_handle().
 */
typedef void (*ipc_sig_handler)(int signo, void *user);

/**
 * @brief A C signal handler with the signal's information, installed with
 *        ipc_sig_handle_info(); the same rules as ::ipc_sig_handler.
 * @param signo  The signal delivered.
 * @param info   What is known of it; valid during the call only.
 * @param user   The pointer given to ipc_sig_handle_info().
 */
typedef void (*ipc_sig_info_handler)(int signo, const ipc_siginfo *info, void *user);

/* ---- Signal sets ---------------------------------------------------------------- */

/**
 * @brief Makes an empty signal set.
 * @param[out] out Receives the new set, owned by the caller (free it with
 *                 ipc_sigset_free()); NULL on failure.
 * @return 0, or `-EINVAL` (NULL `out`), `-ENOMEM`.
 */
IPC_API int ipc_sigset_new(ipc_sigset **out);

/**
 * @brief Makes a copy of a signal set.
 * @param[out] out Receives the new set, owned by the caller; NULL on failure.
 * @param set      The set to copy.
 * @return 0, or `-EINVAL` (NULL `out`), `-EBADF` (`set` NULL or freed), `-ENOMEM`.
 */
IPC_API int ipc_sigset_copy(ipc_sigset **out, const ipc_sigset *set);

/**
 * @brief Frees a signal set.
 * @param set A set, or NULL (a no-op).
 * @return 0, or `-EBADF` for a pointer that is not a live set.
 */
IPC_API int ipc_sigset_free(ipc_sigset *set);

/**
 * @brief Removes every signal from a set (`sigemptyset`).
 * @param set A set.
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_sigset_empty(ipc_sigset *set);

/**
 * @brief Puts every valid signal in a set (`sigfillset`).
 * @param set A set.
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_sigset_fill(ipc_sigset *set);

/**
 * @brief Adds a signal to a set.
 * @param set    A set.
 * @param signo  A valid signal number.
 * @return 0, or `-EBADF`, `-EINVAL` (not a valid signal).
 */
IPC_API int ipc_sigset_add(ipc_sigset *set, int signo);

/**
 * @brief Removes a signal from a set.
 * @param set    A set.
 * @param signo  A valid signal number.
 * @return 0, or `-EBADF`, `-EINVAL` (not a valid signal).
 */
IPC_API int ipc_sigset_del(ipc_sigset *set, int signo);

/**
 * @brief Whether a signal is in a set.
 * @param set    A set.
 * @param signo  A valid signal number.
 * @return 1 (a member), 0 (not a member), or `-EBADF`, `-EINVAL`.
 */
IPC_API int ipc_sigset_has(const ipc_sigset *set, int signo);

/**
 * @brief Iterates over a set: the smallest member greater than `after`.
 *
 * `for (int s = ipc_sigset_next(set, 0); s > 0; s = ipc_sigset_next(set, s))`
 * visits every member in increasing order.
 * @param set    A set.
 * @param after  0 to start, or the previous member; at least 0.
 * @return The next member, 0 when there is none, or `-EBADF`, `-EINVAL`
 *         (negative `after`).
 */
IPC_API int ipc_sigset_next(const ipc_sigset *set, int after);

/* ---- Mask and pending signals --------------------------------------------------- */

/**
 * @brief Changes or reads the calling thread's signal mask (`pthread_sigmask`).
 *
 * `SIGKILL` and `SIGSTOP` cannot be blocked and are silently left out.
 * @param how       ::IPC_SIG_BLOCK, ::IPC_SIG_UNBLOCK or ::IPC_SIG_SETMASK;
 *                  checked even when `set` is NULL.
 * @param set       The signals to block, unblock or make the mask; NULL to
 *                  only read the mask.
 * @param[out] old  Receives the mask as it was before; may be NULL. It may
 *                  be the same handle as `set`.
 * @return 0, or `-EINVAL` (bad `how`), `-EBADF` (`set` or `old` not a live set).
 * @par Thread safety: acts on the calling thread only.
 */
IPC_API int ipc_sig_mask(int how, const ipc_sigset *set, ipc_sigset *old);

/**
 * @brief The signals pending for the calling thread or the process, blocked
 *        and waiting to be delivered (`sigpending`).
 * @param[out] set Receives the pending signals, replacing its contents.
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_sig_pending(ipc_sigset *set);

/* ---- Actions -------------------------------------------------------------------- */

/**
 * @brief Makes an action handle, holding the default action until filled by
 *        ipc_sig_action() or as the `old` of an installing call.
 * @param[out] out Receives the new handle, owned by the caller (free it with
 *                 ipc_sigaction_free()); NULL on failure.
 * @return 0, or `-EINVAL` (NULL `out`), `-ENOMEM`.
 */
IPC_API int ipc_sigaction_new(ipc_sigaction **out);

/**
 * @brief Frees an action handle. The action itself stays installed.
 * @param act A handle, or NULL (a no-op).
 * @return 0, or `-EBADF` for a pointer that is not a live action handle.
 */
IPC_API int ipc_sigaction_free(ipc_sigaction *act);

/**
 * @brief What a saved action does.
 * @param act A handle.
 * @return One of ::IPC_SIG_ACTION_DEFAULT .. ::IPC_SIG_ACTION_FOREIGN, or `-EBADF`.
 */
IPC_API int ipc_sigaction_kind(const ipc_sigaction *act);

/**
 * @brief The flags of a saved action.
 * @param act A handle.
 * @return The ::IPC_SA_RESTART ... flags or-ed (flags without an `IPC_SA_`
 *         constant are kept by a restore but not reported), or `-EBADF`.
 */
IPC_API int ipc_sigaction_flags(const ipc_sigaction *act);

/**
 * @brief The signals a saved action blocks while its handler runs.
 * @param act        A handle.
 * @param[out] mask  Receives the signals, replacing its contents.
 * @return 0, or `-EBADF`.
 */
IPC_API int ipc_sigaction_mask(const ipc_sigaction *act, ipc_sigset *mask);

/**
 * @brief Reads the current action of a signal (`sigaction`).
 * @param signo     A valid signal number.
 * @param[out] act  Receives the action.
 * @return 0, or `-EINVAL` (not a valid signal), `-EBADF`.
 */
IPC_API int ipc_sig_action(int signo, ipc_sigaction *act);

/**
 * @brief Installs a saved action: restores what an earlier call put in `act`.
 * @param signo     A valid signal number, not `SIGKILL` or `SIGSTOP`.
 * @param act       The action to install, as read for any signal.
 * @param[out] old  Receives the action replaced; may be NULL or `act`.
 * @return 0, or `-EINVAL` (bad signal, `SIGKILL`, `SIGSTOP`), `-EBADF`.
 */
IPC_API int ipc_sig_restore(int signo, const ipc_sigaction *act, ipc_sigaction *old);

/**
 * @brief Restores the default action of a signal (`SIG_DFL`).
 * @param signo     A valid signal number, not `SIGKILL` or `SIGSTOP`.
 * @param[out] old  Receives the action replaced; may be NULL.
 * @return 0, or `-EINVAL` (bad signal, `SIGKILL`, `SIGSTOP`), `-EBADF` (bad `old`).
 */
IPC_API int ipc_sig_default(int signo, ipc_sigaction *old);

/**
 * @brief Ignores a signal (`SIG_IGN`): a pending one is discarded.
 * @param signo     A valid signal number, not `SIGKILL` or `SIGSTOP`.
 * @param[out] old  Receives the action replaced; may be NULL.
 * @return 0, or `-EINVAL` (bad signal, `SIGKILL`, `SIGSTOP`), `-EBADF` (bad `old`).
 */
IPC_API int ipc_sig_ignore(int signo, ipc_sigaction *old);

/**
 * @brief Installs a C function as the handler of a signal.
 *
 * libipc keeps `fn` and `user` in a per-signal table read by its own
 * handler, which calls `fn(signo, user)`.
 * @param signo     A valid signal number, not `SIGKILL` or `SIGSTOP`.
 * @param fn        The handler; not NULL.
 * @param user      Passed to `fn` unchanged; may be NULL.
 * @param mask      Signals also blocked while `fn` runs; may be NULL (none).
 * @param flags     ::IPC_SA_RESTART ... or-ed, or 0.
 * @param[out] old  Receives the action replaced; may be NULL.
 * @return 0, or `-EINVAL` (bad signal, `SIGKILL`, `SIGSTOP`, NULL `fn`, unknown
 *         flags), `-EBADF` (bad `mask` or `old`), `-ENOMEM`.
 */
IPC_API int ipc_sig_handle(int signo, ipc_sig_handler fn, void *user, const ipc_sigset *mask,
                           uint32_t flags, ipc_sigaction *old);

/**
 * @brief Installs a C function that receives the signal's information;
 *        otherwise as ipc_sig_handle().
 * @param signo     A valid signal number, not `SIGKILL` or `SIGSTOP`.
 * @param fn        The handler, called as `fn(signo, &info, user)`; not NULL.
 * @param user      Passed to `fn` unchanged; may be NULL.
 * @param mask      Signals also blocked while `fn` runs; may be NULL (none).
 * @param flags     ::IPC_SA_RESTART ... or-ed, or 0.
 * @param[out] old  Receives the action replaced; may be NULL.
 * @return 0, or `-EINVAL`, `-EBADF`, `-ENOMEM`, as ipc_sig_handle().
 */
IPC_API int ipc_sig_handle_info(int signo, ipc_sig_info_handler fn, void *user,
                                const ipc_sigset *mask, uint32_t flags, ipc_sigaction *old);

/**
 * @brief Installs the built-in recording handler, for languages that cannot
 *        run code inside a signal handler.
 *
 * The handler is async-signal-safe (lock-free atomics only): it counts each
 * delivery of the signal and keeps its ::ipc_siginfo as the latest. Read
 * them with ipc_sig_recorded() and ipc_sig_recorded_info(). Standard signals
 * sent while one is already pending merge into one delivery; real-time
 * signals are all delivered, so all counted. Installing does not reset the
 * count.
 * @param signo     A valid signal number, not `SIGKILL` or `SIGSTOP`.
 * @param flags     ::IPC_SA_RESTART ... or-ed, or 0.
 * @param[out] old  Receives the action replaced; may be NULL.
 * @return 0, or `-EINVAL` (bad signal, `SIGKILL`, `SIGSTOP`, unknown flags), `-EBADF`.
 */
IPC_API int ipc_sig_record(int signo, uint32_t flags, ipc_sigaction *old);

/**
 * @brief How many times the recording handler ran for a signal since the
 *        last ipc_sig_record_reset().
 * @param signo A valid signal number.
 * @return The count, or `-EINVAL` (not a valid signal).
 * @par Thread safety: safe, also from inside a signal handler.
 */
IPC_API int64_t ipc_sig_recorded(int signo);

/**
 * @brief The information of the latest delivery the recording handler saw.
 * @param signo      A valid signal number.
 * @param[out] info  Receives the information; zeroed when there is none.
 * @return 1 (information written), 0 (nothing recorded since the last
 *         reset), or `-EINVAL` (bad signal, NULL `info`).
 */
IPC_API int ipc_sig_recorded_info(int signo, ipc_siginfo *info);

/**
 * @brief Sets the count of a signal back to 0 and forgets its latest
 *        information, atomically with respect to the handler: a delivery is
 *        either in the count returned or in the new count, never lost.
 * @param signo A valid signal number.
 * @return The count before the reset, or `-EINVAL` (not a valid signal).
 */
IPC_API int64_t ipc_sig_record_reset(int signo);

/* ---- Sending -------------------------------------------------------------------- */

/**
 * @brief Sends a signal to a process (`kill`).
 * @param pid    A process id; 0 sends to every process of the caller's
 *               process group, a negative -g to every process of group g,
 *               as `kill`.
 * @param signo  A valid signal number.
 * @return 0, or `-EINVAL` (not a valid signal), `-ESRCH` (no such process),
 *         `-EPERM` (not allowed).
 */
IPC_API int ipc_sig_send(int pid, int signo);

/**
 * @brief Sends a signal with a 64-bit value (`sigqueue`); the receiver reads
 *        it in ipc_siginfo::value, with `code` `SI_QUEUE` and the sender's pid
 *        and uid. Real-time signals queue: each one sent is delivered, in order.
 * @param pid    A process id (`getpid()` for the calling process).
 * @param signo  A valid signal number.
 * @param value  Carried in `sival_ptr`, so all 64 bits arrive.
 * @return 0, or `-EINVAL`, `-ESRCH`, `-EPERM`, `-EAGAIN` (the receiver's
 *         queue of signals is full: `RLIMIT_SIGPENDING`).
 */
IPC_API int ipc_sig_queue(int pid, int signo, int64_t value);

/**
 * @brief Sends a signal to the calling thread (`raise`); if it has a handler,
 *        the handler has run when this returns.
 * @param signo A valid signal number.
 * @return 0, or `-EINVAL` (not a valid signal).
 */
IPC_API int ipc_sig_raise(int signo);

/* ---- Waiting -------------------------------------------------------------------- */

/**
 * @brief Waits until a signal of the set is pending, and takes it (`sigwaitinfo`).
 * @param set        The signals to wait for; they should be blocked (see the
 *                   file comment).
 * @param[out] info  Receives the signal's information; may be NULL.
 * @return The signal number, or `-EBADF` (bad `set`), `-EINTR` (a handler of a
 *         signal outside the set ran; not restarted).
 */
IPC_API int ipc_sig_wait(const ipc_sigset *set, ipc_siginfo *info);

/**
 * @brief Takes a pending signal of the set, without waiting.
 * @param set        The signals to take.
 * @param[out] info  Receives the signal's information; may be NULL.
 * @return The signal number, or `-EAGAIN` (none pending), `-EBADF`.
 */
IPC_API int ipc_sig_trywait(const ipc_sigset *set, ipc_siginfo *info);

/**
 * @brief Waits at most `seconds` for a signal of the set (`sigtimedwait`).
 * @param set        The signals to wait for; they should be blocked.
 * @param seconds    Relative timeout; 0 polls, `+inf` waits for ever.
 * @param[out] info  Receives the signal's information; may be NULL.
 * @return The signal number, or `-ETIMEDOUT` (none came in time, a timeout of
 *         0 included), `-EINVAL` (NaN or negative `seconds`), `-EBADF`,
 *         `-EINTR` (a handler of another signal ran; not restarted).
 */
IPC_API int ipc_sig_timedwait(const ipc_sigset *set, double seconds, ipc_siginfo *info);

/**
 * @brief Replaces the calling thread's mask by `mask` until a signal whose
 *        action is a handler arrives and its handler has run, then restores
 *        the mask (`sigsuspend`).
 *
 * The usual pattern blocks the signal, checks for the event, then suspends
 * with a mask that lets the signal through, so no delivery is missed.
 * @param mask The temporary mask (the signals to keep blocked meanwhile).
 * @return `-EINTR` once a handler has run: this is the normal return, as
 *         with `sigsuspend`; or `-EBADF` (bad `mask`).
 */
IPC_API int ipc_sig_suspend(const ipc_sigset *mask);

/* ---- Signal descriptors --------------------------------------------------------- */

/**
 * @brief A descriptor that becomes readable when a signal of the set is
 *        pending (`signalfd`), for `poll`, `epoll` or an event loop. The
 *        signals should be blocked (see the file comment). Reading it takes
 *        the signal, as a wait does.
 * @param set    The signals to watch.
 * @param flags  ::IPC_SIG_FD_NONBLOCK, or 0. The descriptor is always
 *               close-on-exec.
 * @return The descriptor, owned by the caller (close it with `close`), or
 *         `-EBADF` (bad `set`), `-EINVAL` (unknown flags), `-EMFILE`, `-ENOMEM`.
 */
IPC_API int ipc_sig_fd(const ipc_sigset *set, uint32_t flags);

/**
 * @brief Takes one signal from a descriptor of ipc_sig_fd().
 * @param fd         The descriptor.
 * @param[out] info  Receives the signal's information; may be NULL.
 * @return The signal number, or `-EAGAIN` (non-blocking and none pending),
 *         `-EBADF` (not an open descriptor), `-EINVAL` (not a signal
 *         descriptor), `-EINTR`.
 */
IPC_API int ipc_sig_fd_read(int fd, ipc_siginfo *info);

/* ---- Names and numbers ---------------------------------------------------------- */

/**
 * @brief The first real-time signal, `SIGRTMIN`, as read at run time.
 * @return The number (34 with glibc on Linux).
 */
IPC_API int ipc_sig_rtmin(void);

/**
 * @brief The last real-time signal and the largest signal number,
 *        `SIGRTMAX`, as read at run time.
 * @return The number (64 on Linux).
 */
IPC_API int ipc_sig_rtmax(void);

/**
 * @brief The number of a signal from its name.
 *
 * Accepts `SIGUSR1` or `USR1` (any case), the aliases `SIGIOT`, `SIGPOLL`
 * and `SIGCLD`, `SIGRTMIN`, `SIGRTMAX`, `SIGRTMIN+n` and `SIGRTMAX-n` (with or
 * without `SIG`), and a decimal number.
 * @param name The name.
 * @return The signal number, or `-EINVAL` (NULL, unknown, or out of range).
 */
IPC_API int ipc_sig_number(const char *name);

/**
 * @brief The name of a signal: `SIGUSR1`; real-time signals as `SIGRTMIN`,
 *        `SIGRTMIN+n` (lower half), `SIGRTMAX-n` (upper half) or `SIGRTMAX`.
 *        ipc_sig_number() turns it back into `signo`.
 * @param signo     A valid signal number.
 * @param[out] buf  Receives the NUL-terminated name.
 * @param cap       Room in `buf`; ::IPC_SIG_NAME_MAX is always enough.
 * @return The length of the name (without NUL), or `-EINVAL` (bad signal,
 *         NULL `buf`), `-ERANGE` (`cap` too small; nothing written).
 */
IPC_API int ipc_sig_name(int signo, char *buf, size_t cap);

/**
 * @brief The size of ::ipc_siginfo, for bindings that check their copy of it.
 * @return `sizeof(ipc_siginfo)`, 40.
 */
IPC_API size_t ipc_siginfo_size(void);

#ifdef __cplusplus
}
#endif

#endif /* IPC_SIG_H */
