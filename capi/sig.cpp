#include "ipc/sig.h"

#include "../lib/sig.hpp"
#include "common.hpp"

#include <cstddef>
#include <cstring>
#include <mutex>

using namespace ipc::capi;
using ipc::sig::Action;
using ipc::sig::Binding;
using ipc::sig::Info;
using ipc::sig::Set;

namespace {

// An action handle is a value that a thread may overwrite while another
// reads it: a lock keeps each read and write whole.
struct SavedAction {
    mutable std::mutex lock;
    Action action;

    explicit SavedAction(const Action &a) : action(a) {}

    Action get() const {
        std::lock_guard hold(lock);
        return action;
    }
    void set(const Action &a) {
        std::lock_guard hold(lock);
        action = a;
    }
};

} // namespace

struct ipc_sigset : Handle<Set, make_tag("sset")> {
    using Handle::Handle;
};

struct ipc_sigaction : Handle<SavedAction, make_tag("sact")> {
    using Handle::Handle;
};

static_assert(sizeof(ipc_siginfo) == 40 && sizeof(ipc_siginfo) == sizeof(Info));
static_assert(offsetof(ipc_siginfo, signo) == 0 && offsetof(ipc_siginfo, code) == 4);
static_assert(offsetof(ipc_siginfo, errnum) == 8 && offsetof(ipc_siginfo, pid) == 12);
static_assert(offsetof(ipc_siginfo, uid) == 16 && offsetof(ipc_siginfo, status) == 20);
static_assert(offsetof(ipc_siginfo, value) == 24 && offsetof(ipc_siginfo, addr) == 32);
static_assert(IPC_SIG_ACTION_DEFAULT == int(ipc::sig::Kind::default_action) &&
              IPC_SIG_ACTION_IGNORE == int(ipc::sig::Kind::ignore) &&
              IPC_SIG_ACTION_HANDLER == int(ipc::sig::Kind::handler) &&
              IPC_SIG_ACTION_INFO == int(ipc::sig::Kind::info_handler) &&
              IPC_SIG_ACTION_RECORD == int(ipc::sig::Kind::record) &&
              IPC_SIG_ACTION_FOREIGN == int(ipc::sig::Kind::foreign));

namespace {

constexpr const char *set_kind = "ipc_sigset";
constexpr const char *action_kind = "ipc_sigaction";

// Async-signal-safe: plain stores.
void to_c(const Info &from, ipc_siginfo *to) {
    *to = ipc_siginfo{from.signo, from.code,   from.errnum, from.pid,
                      from.uid,   from.status, from.value,  from.addr};
}

void call_plain(Binding::Fn fn, int signo, const Info &, void *user) {
    reinterpret_cast<ipc_sig_handler>(fn)(signo, user);
}

void call_info(Binding::Fn fn, int signo, const Info &info, void *user) {
    ipc_siginfo c;
    to_c(info, &c);
    reinterpret_cast<ipc_sig_info_handler>(fn)(signo, &c, user);
}

// The optional out-parameter `old`, checked before anything changes.
ipc_sigaction *optional(ipc_sigaction *old) { return old ? &live(old, action_kind) : nullptr; }

int install(int signo, const Action &act, ipc_sigaction *old) {
    ipc_sigaction *out = optional(old);
    Action previous = ipc::sig::install(signo, act);
    if (out)
        out->core.set(previous);
    return 0;
}

int handle(const char *function, int signo, ipc::sig::Kind kind, Binding::Call call, Binding::Fn fn,
           void *user, const ipc_sigset *mask, uint32_t flags, ipc_sigaction *old) {
    ipc::sig::check_settable(signo, function);
    require(reinterpret_cast<const void *>(fn), function, "fn");
    Set blocked;
    if (mask)
        blocked = live(mask, set_kind).core;
    optional(old);
    Action act = Action::handler(ipc::sig::bind(kind, call, fn, user), &blocked, flags);
    return install(signo, act, old);
}

// For functions that return an int64_t count or a negative code.
template <class Body> int64_t guard64(Body &&body) noexcept {
    try {
        return body();
    } catch (...) {
        return record_current_exception();
    }
}

int taken(int signo, const Info &info, ipc_siginfo *out) {
    if (out)
        to_c(info, out);
    return signo;
}

} // namespace

extern "C" {

// ---- Sets -----------------------------------------------------------------------------

IPC_API int ipc_sigset_new(ipc_sigset **out) {
    return emit(out, "ipc_sigset_new", [] { return Set(); });
}

IPC_API int ipc_sigset_copy(ipc_sigset **out, const ipc_sigset *set) {
    return emit(out, "ipc_sigset_copy", [&] { return Set(live(set, set_kind).core); });
}

IPC_API int ipc_sigset_free(ipc_sigset *set) { return close(set, set_kind); }

IPC_API int ipc_sigset_empty(ipc_sigset *set) {
    return guard([&] {
        live(set, set_kind).core.clear();
        return 0;
    });
}

IPC_API int ipc_sigset_fill(ipc_sigset *set) {
    return guard([&] {
        live(set, set_kind).core.fill();
        return 0;
    });
}

IPC_API int ipc_sigset_add(ipc_sigset *set, int signo) {
    return guard([&] {
        live(set, set_kind).core.add(signo);
        return 0;
    });
}

IPC_API int ipc_sigset_del(ipc_sigset *set, int signo) {
    return guard([&] {
        live(set, set_kind).core.del(signo);
        return 0;
    });
}

IPC_API int ipc_sigset_has(const ipc_sigset *set, int signo) {
    return guard([&] { return live(set, set_kind).core.has(signo) ? 1 : 0; });
}

IPC_API int ipc_sigset_next(const ipc_sigset *set, int after) {
    return guard([&] { return live(set, set_kind).core.next(after); });
}

// ---- Mask -----------------------------------------------------------------------------

IPC_API int ipc_sig_mask(int how, const ipc_sigset *set, ipc_sigset *old) {
    return guard([&] {
        Set wanted;
        if (set)
            wanted = live(set, set_kind).core; // a copy: `old` may be the same handle
        ipc_sigset *out = old ? &live(old, set_kind) : nullptr;
        Set previous = ipc::sig::mask(how, set ? &wanted : nullptr);
        if (out)
            out->core = previous;
        return 0;
    });
}

IPC_API int ipc_sig_pending(ipc_sigset *set) {
    return guard([&] {
        auto &h = live(set, set_kind);
        h.core = ipc::sig::pending();
        return 0;
    });
}

// ---- Actions --------------------------------------------------------------------------

IPC_API int ipc_sigaction_new(ipc_sigaction **out) {
    return emit(out, "ipc_sigaction_new", [] { return Action(); });
}

IPC_API int ipc_sigaction_free(ipc_sigaction *act) { return close(act, action_kind); }

IPC_API int ipc_sigaction_kind(const ipc_sigaction *act) {
    return guard([&] { return int(live(act, action_kind).core.get().kind()); });
}

IPC_API int ipc_sigaction_flags(const ipc_sigaction *act) {
    return guard([&] { return int(live(act, action_kind).core.get().flags()); });
}

IPC_API int ipc_sigaction_mask(const ipc_sigaction *act, ipc_sigset *mask) {
    return guard([&] {
        Action a = live(act, action_kind).core.get();
        live(mask, set_kind).core = a.mask();
        return 0;
    });
}

IPC_API int ipc_sig_action(int signo, ipc_sigaction *act) {
    return guard([&] {
        auto &h = live(act, action_kind);
        h.core.set(ipc::sig::action(signo));
        return 0;
    });
}

IPC_API int ipc_sig_restore(int signo, const ipc_sigaction *act, ipc_sigaction *old) {
    return guard([&] {
        Action wanted = live(act, action_kind).core.get(); // a copy: `old` may be `act`
        return install(signo, wanted, old);
    });
}

IPC_API int ipc_sig_default(int signo, ipc_sigaction *old) {
    return guard([&] { return install(signo, Action::default_action(), old); });
}

IPC_API int ipc_sig_ignore(int signo, ipc_sigaction *old) {
    return guard([&] { return install(signo, Action::ignore(), old); });
}

IPC_API int ipc_sig_handle(int signo, ipc_sig_handler fn, void *user, const ipc_sigset *mask,
                           uint32_t flags, ipc_sigaction *old) {
    return guard([&] {
        return handle("ipc_sig_handle", signo, ipc::sig::Kind::handler, call_plain,
                      reinterpret_cast<Binding::Fn>(fn), user, mask, flags, old);
    });
}

IPC_API int ipc_sig_handle_info(int signo, ipc_sig_info_handler fn, void *user,
                                const ipc_sigset *mask, uint32_t flags, ipc_sigaction *old) {
    return guard([&] {
        return handle("ipc_sig_handle_info", signo, ipc::sig::Kind::info_handler, call_info,
                      reinterpret_cast<Binding::Fn>(fn), user, mask, flags, old);
    });
}

IPC_API int ipc_sig_record(int signo, uint32_t flags, ipc_sigaction *old) {
    return guard([&] {
        ipc::sig::check_settable(signo, "ipc_sig_record");
        return install(signo, Action::record(flags), old);
    });
}

IPC_API int64_t ipc_sig_recorded(int signo) {
    return guard64([&] { return ipc::sig::recorded(signo); });
}

IPC_API int ipc_sig_recorded_info(int signo, ipc_siginfo *info) {
    return guard([&] {
        require(info, "ipc_sig_recorded_info", "info");
        Info latest;
        bool found = ipc::sig::recorded_info(signo, latest);
        to_c(latest, info);
        return found ? 1 : 0;
    });
}

IPC_API int64_t ipc_sig_record_reset(int signo) {
    return guard64([&] { return ipc::sig::record_reset(signo); });
}

// ---- Sending --------------------------------------------------------------------------

IPC_API int ipc_sig_send(int pid, int signo) {
    return guard([&] {
        ipc::sig::send(pid, signo);
        return 0;
    });
}

IPC_API int ipc_sig_queue(int pid, int signo, int64_t value) {
    return guard([&] {
        ipc::sig::queue(pid, signo, value);
        return 0;
    });
}

IPC_API int ipc_sig_raise(int signo) {
    return guard([&] {
        ipc::sig::raise_here(signo);
        return 0;
    });
}

// ---- Waiting --------------------------------------------------------------------------

IPC_API int ipc_sig_wait(const ipc_sigset *set, ipc_siginfo *info) {
    return guard([&] {
        Info got;
        return taken(ipc::sig::wait(live(set, set_kind).core, &got), got, info);
    });
}

IPC_API int ipc_sig_trywait(const ipc_sigset *set, ipc_siginfo *info) {
    return guard([&] {
        Info got;
        return taken(ipc::sig::try_wait(live(set, set_kind).core, &got), got, info);
    });
}

IPC_API int ipc_sig_timedwait(const ipc_sigset *set, double seconds, ipc_siginfo *info) {
    return guard([&] {
        Info got;
        return taken(ipc::sig::timed_wait(live(set, set_kind).core, seconds, &got), got, info);
    });
}

IPC_API int ipc_sig_suspend(const ipc_sigset *mask) {
    return guard([&] {
        // EINTR is the normal outcome: returned, not recorded as a failure.
        return -ipc::sig::suspend(live(mask, set_kind).core);
    });
}

// ---- Signal descriptors ---------------------------------------------------------------

IPC_API int ipc_sig_fd(const ipc_sigset *set, uint32_t flags) {
    return guard([&] { return ipc::sig::open_fd(live(set, set_kind).core, flags); });
}

IPC_API int ipc_sig_fd_read(int fd, ipc_siginfo *info) {
    return guard([&] {
        Info got;
        return taken(ipc::sig::read_fd(fd, &got), got, info);
    });
}

// ---- Names ----------------------------------------------------------------------------

IPC_API int ipc_sig_rtmin(void) { return ipc::sig::rtmin(); }

IPC_API int ipc_sig_rtmax(void) { return ipc::sig::rtmax(); }

IPC_API int ipc_sig_number(const char *name) {
    return guard([&] {
        require(name, "ipc_sig_number", "name");
        return ipc::sig::number(name);
    });
}

IPC_API int ipc_sig_name(int signo, char *buf, size_t cap) {
    return guard([&] {
        std::string name = ipc::sig::name(signo);
        return copy_out(name, buf, cap, "ipc_sig_name");
    });
}

IPC_API size_t ipc_siginfo_size(void) { return sizeof(ipc_siginfo); }

} // extern "C"
