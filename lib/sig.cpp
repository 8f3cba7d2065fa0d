#include "sig.hpp"

#include "common.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <vector>

namespace ipc::sig {

namespace {

// Signal numbers run 1.._NSIG-1; a set is one 64-bit word.
constexpr int table_size = 65;
static_assert(_NSIG <= table_size, "signal numbers above 64 need a wider set");
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<const void *>::is_always_lock_free,
              "the handlers need lock-free atomics");

struct Named {
    int signo;
    const char *name; // without "SIG"
};

// Canonical names first: name() takes the first match.
constexpr Named names[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},       {SIGQUIT, "QUIT"},   {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},     {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"},   {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},     {SIGTERM, "TERM"},
#ifdef SIGSTKFLT
    {SIGSTKFLT, "STKFLT"},
#endif
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"},   {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},     {SIGURG, "URG"},     {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},   {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},
#ifdef SIGPWR
    {SIGPWR, "PWR"},
#endif
    {SIGSYS, "SYS"},
    // Aliases.
    {SIGABRT, "IOT"},  {SIGIO, "POLL"},       {SIGCHLD, "CLD"},
};

const char *standard_name(int signo) {
    for (const auto &n : names)
        if (n.signo == signo)
            return n.name;
    return nullptr;
}

std::string describe(int signo) {
    const char *n = standard_name(signo);
    return n ? "SIG" + std::string(n) : "signal " + std::to_string(signo);
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = char(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z')
            y = char(y - 'a' + 'A');
        if (x != y)
            return false;
    }
    return true;
}

// A decimal number of at most 9 digits, or -1.
int decimal(std::string_view text) {
    if (text.empty() || text.size() > 9)
        return -1;
    int n = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

uint64_t bit(int signo) { return uint64_t{1} << (signo - 1); }

constexpr struct {
    uint32_t ours;
    unsigned native; // SA_RESETHAND is 0x80000000
} flag_map[] = {
    {1, SA_RESTART},  {2, SA_NODEFER},    {4, unsigned(SA_RESETHAND)},
    {8, SA_ONSTACK},  {16, SA_NOCLDSTOP}, {32, SA_NOCLDWAIT},
};
constexpr uint32_t all_flags = 63;

// ---- libipc's own handlers, and their async-signal-safe state -------------------

std::atomic<const Binding *> bindings[table_size];

void dispatch(int signo, siginfo_t *si, void *) {
    int saved = errno;
    const Binding *b = signo > 0 && signo < table_size ? bindings[signo].load(std::memory_order_acquire) : nullptr;
    if (b)
        b->call(b->fn, signo, to_info(*si), b->user);
    errno = saved;
}

// Per signal: the delivery count, and the latest Info behind a sequence
// lock (odd while written; a handler that finds another one writing keeps
// its count but not its information). `empty_at` is the sequence at the
// last reset: information is present once the sequence has moved past it.
struct Slot {
    std::atomic<uint64_t> count{0};
    std::atomic<uint32_t> seq{0};
    std::atomic<uint32_t> empty_at{0};
    std::atomic<uint64_t> words[5] = {};
};
static_assert(sizeof(Info) == sizeof(Slot::words));
Slot slots[table_size];

void record_handler(int signo, siginfo_t *si, void *) {
    if (signo <= 0 || signo >= table_size)
        return;
    Slot &slot = slots[signo];
    Info info = to_info(*si);
    uint64_t words[5];
    __builtin_memcpy(words, &info, sizeof words);
    uint32_t seq = slot.seq.load(std::memory_order_relaxed);
    if (!(seq & 1) && slot.seq.compare_exchange_strong(seq, seq + 1, std::memory_order_relaxed)) {
        std::atomic_thread_fence(std::memory_order_release);
        for (int i = 0; i < 5; ++i)
            slot.words[i].store(words[i], std::memory_order_relaxed);
        slot.seq.store(seq + 2, std::memory_order_release);
    }
    slot.count.fetch_add(1, std::memory_order_release);
}

bool ours(const struct sigaction &sa, void (*handler)(int, siginfo_t *, void *)) {
    return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == handler;
}

struct sigaction make(void (*handler)(int, siginfo_t *, void *), const Set *mask, uint32_t flags) {
    struct sigaction sa {};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | native_flags(flags);
    if (mask)
        sa.sa_mask = mask->native();
    else
        sigemptyset(&sa.sa_mask);
    return sa;
}

timespec to_timespec(double seconds) {
    double whole = std::floor(seconds);
    return timespec{static_cast<time_t>(whole), static_cast<long>((seconds - whole) * 1e9)};
}

Info from_fd(const signalfd_siginfo &s) {
    Info i;
    i.signo = static_cast<int32_t>(s.ssi_signo);
    i.code = s.ssi_code;
    i.errnum = s.ssi_errno;
    i.pid = static_cast<int32_t>(s.ssi_pid);
    i.uid = s.ssi_uid;
    i.status = s.ssi_status;
    i.value = static_cast<int64_t>(s.ssi_ptr);
    i.addr = s.ssi_addr;
    return i;
}

int waited(int signo, const siginfo_t &si, Info *info, const char *what) {
    if (signo < 0)
        fail_errno(what);
    if (info)
        *info = to_info(si);
    return signo;
}

} // namespace

int rtmin() { return SIGRTMIN; }
int rtmax() { return SIGRTMAX; }

bool valid(int signo) {
    return (signo >= rtmin() && signo <= rtmax()) || (signo > 0 && standard_name(signo));
}

void check(int signo, const char *what) {
    if (valid(signo))
        return;
    std::string why = signo > 0 && signo < rtmin() ? " is reserved by the C library"
                                                   : " is not a signal number";
    fail(EINVAL, std::string(what) + ": " + std::to_string(signo) + why + " (valid: 1 to 31 and " +
                     std::to_string(rtmin()) + " to " + std::to_string(rtmax()) + ")");
}

void check_settable(int signo, const char *what) {
    check(signo, what);
    if (signo == SIGKILL || signo == SIGSTOP)
        fail(EINVAL, std::string(what) + ": the action of " + describe(signo) + " cannot be changed");
}

Info to_info(const siginfo_t &si) {
    Info i;
    i.signo = si.si_signo;
    i.code = si.si_code;
    i.errnum = si.si_errno;
    const int c = si.si_code;
    // siginfo_t is a union: read only the members that si_code says are set.
    if (c == SI_USER || c == SI_QUEUE || c == SI_TKILL || c == SI_MESGQ) {
        i.pid = si.si_pid;
        i.uid = si.si_uid;
    }
    if (c == SI_QUEUE || c == SI_TIMER || c == SI_MESGQ || c == SI_ASYNCIO)
        i.value = static_cast<int64_t>(reinterpret_cast<intptr_t>(si.si_value.sival_ptr));
    if (c > 0 && c != SI_KERNEL) {
        switch (si.si_signo) {
        case SIGCHLD:
            i.pid = si.si_pid;
            i.uid = si.si_uid;
            i.status = si.si_status;
            break;
        case SIGSEGV:
        case SIGBUS:
        case SIGILL:
        case SIGFPE:
        case SIGTRAP:
            i.addr = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(si.si_addr));
            break;
        default:
            break;
        }
    }
    return i;
}

// ---- Set --------------------------------------------------------------------------

Set Set::from(const sigset_t &s) {
    Set out;
    uint64_t bits = 0;
    for (int signo = 1; signo <= rtmax(); ++signo)
        if (valid(signo) && sigismember(&s, signo) == 1)
            bits |= bit(signo);
    out.bits_.store(bits, std::memory_order_relaxed);
    return out;
}

void Set::fill() {
    uint64_t bits = 0;
    for (int signo = 1; signo <= rtmax(); ++signo)
        if (valid(signo))
            bits |= bit(signo);
    bits_.store(bits, std::memory_order_relaxed);
}

void Set::add(int signo) {
    check(signo, "sigaddset");
    bits_.fetch_or(bit(signo), std::memory_order_relaxed);
}

void Set::del(int signo) {
    check(signo, "sigdelset");
    bits_.fetch_and(~bit(signo), std::memory_order_relaxed);
}

bool Set::has(int signo) const {
    check(signo, "sigismember");
    return bits() & bit(signo);
}

int Set::next(int after) const {
    if (after < 0)
        fail(EINVAL, "next signal after " + std::to_string(after) + ": must be at least 0");
    if (after >= 64)
        return 0;
    uint64_t rest = bits() & (~uint64_t{0} << after); // members above `after`
    return rest ? __builtin_ctzll(rest) + 1 : 0;
}

sigset_t Set::native() const {
    sigset_t s;
    sigemptyset(&s);
    for (uint64_t rest = bits(); rest; rest &= rest - 1)
        sigaddset(&s, __builtin_ctzll(rest) + 1);
    return s;
}

// ---- Mask -------------------------------------------------------------------------

Set mask(int how, const Set *set) {
    static constexpr int native_how[] = {SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK};
    if (how < 0 || how > 2)
        fail(EINVAL, "pthread_sigmask: how " + std::to_string(how) +
                         " is not IPC_SIG_BLOCK (0), IPC_SIG_UNBLOCK (1) or IPC_SIG_SETMASK (2)");
    sigset_t old, wanted;
    if (set)
        wanted = set->native();
    // pthread_sigmask returns its error instead of setting errno.
    if (int rc = pthread_sigmask(native_how[how], set ? &wanted : nullptr, &old))
        fail(rc, "pthread_sigmask");
    return Set::from(old);
}

Set pending() {
    sigset_t s;
    if (sigpending(&s) != 0)
        fail_errno("sigpending");
    return Set::from(s);
}

// ---- Actions ----------------------------------------------------------------------

int native_flags(uint32_t flags) {
    check_flags(flags, all_flags, "sigaction flags");
    unsigned out = 0;
    for (const auto &f : flag_map)
        if (flags & f.ours)
            out |= f.native;
    return static_cast<int>(out);
}

uint32_t library_flags(int sa_flags) {
    uint32_t out = 0;
    for (const auto &f : flag_map)
        if (static_cast<unsigned>(sa_flags) & f.native)
            out |= f.ours;
    return out;
}

const Binding *bind(Kind kind, Binding::Call call, Binding::Fn fn, void *user) {
    static std::mutex lock;
    static auto *all = new std::vector<const Binding *>; // never freed: handlers may read them
    std::lock_guard hold(lock);
    for (const Binding *b : *all)
        if (b->kind == kind && b->call == call && b->fn == fn && b->user == user)
            return b;
    all->reserve(all->size() + 1); // no throw after the allocation below
    const Binding *b = new Binding{kind, call, fn, user};
    all->push_back(b);
    return b;
}

Kind Action::kind() const {
    if (sa.sa_handler == SIG_DFL)
        return Kind::default_action;
    if (sa.sa_handler == SIG_IGN)
        return Kind::ignore;
    if (ours(sa, dispatch) && binding)
        return binding->kind;
    if (ours(sa, record_handler))
        return Kind::record;
    return Kind::foreign;
}

Action Action::default_action() { return Action(); }

Action Action::ignore() {
    Action a;
    a.sa.sa_handler = SIG_IGN;
    return a;
}

Action Action::handler(const Binding *binding, const Set *mask, uint32_t flags) {
    Action a;
    a.sa = make(dispatch, mask, flags);
    a.binding = binding;
    return a;
}

Action Action::record(uint32_t flags) {
    Action a;
    a.sa = make(record_handler, nullptr, flags);
    return a;
}

Action action(int signo) {
    check(signo, "sigaction");
    Action a;
    const Binding *b = bindings[signo].load(std::memory_order_acquire);
    if (sigaction(signo, nullptr, &a.sa) != 0)
        fail_errno("sigaction(" + describe(signo) + ")");
    if (ours(a.sa, dispatch))
        a.binding = b;
    return a;
}

Action install(int signo, const Action &act) {
    check_settable(signo, "sigaction");
    // The table first: from the moment the dispatcher is installed, it finds
    // its binding.
    const Binding *previous = bindings[signo].load(std::memory_order_acquire);
    bool dispatched = ours(act.sa, dispatch);
    if (dispatched && !act.binding)
        fail(EINVAL, "sigaction(" + describe(signo) + "): a saved handler has lost its function");
    if (dispatched)
        bindings[signo].store(act.binding, std::memory_order_release);
    Action old;
    if (sigaction(signo, &act.sa, &old.sa) != 0) {
        int e = errno;
        bindings[signo].store(previous, std::memory_order_release);
        fail(e, "sigaction(" + describe(signo) + ")");
    }
    if (ours(old.sa, dispatch))
        old.binding = previous;
    return old;
}

// ---- Recording --------------------------------------------------------------------

int64_t recorded(int signo) {
    check(signo, "recorded signals");
    return static_cast<int64_t>(slots[signo].count.load(std::memory_order_acquire));
}

bool recorded_info(int signo, Info &out) {
    check(signo, "recorded signal information");
    Slot &slot = slots[signo];
    uint64_t words[5];
    uint32_t before = 0;
    for (;;) {
        before = slot.seq.load(std::memory_order_acquire);
        if (before & 1) { // a handler is writing: it finishes within nanoseconds
            cpu_relax();
            continue;
        }
        for (int i = 0; i < 5; ++i)
            words[i] = slot.words[i].load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (slot.seq.load(std::memory_order_relaxed) == before)
            break;
    }
    if (before == slot.empty_at.load(std::memory_order_acquire)) {
        out = Info{};
        return false;
    }
    std::memcpy(&out, words, sizeof out);
    return true;
}

int64_t record_reset(int signo) {
    check(signo, "recorded signals");
    Slot &slot = slots[signo];
    // A write in progress (odd) counts as after the reset.
    slot.empty_at.store(slot.seq.load(std::memory_order_acquire) & ~1u, std::memory_order_release);
    return static_cast<int64_t>(slot.count.exchange(0, std::memory_order_acq_rel));
}

// ---- Sending ----------------------------------------------------------------------

void send(int pid, int signo) {
    check(signo, "kill");
    if (::kill(pid, signo) != 0)
        fail_errno("kill(" + std::to_string(pid) + ", " + describe(signo) + ")");
}

void queue(int pid, int signo, int64_t value) {
    check(signo, "sigqueue");
    sigval v{};
    v.sival_ptr = reinterpret_cast<void *>(static_cast<intptr_t>(value)); // all 64 bits travel
    if (::sigqueue(pid, signo, v) != 0)
        fail_errno("sigqueue(" + std::to_string(pid) + ", " + describe(signo) + ")");
}

void raise_here(int signo) {
    check(signo, "raise");
    if (::raise(signo) != 0)
        fail_errno("raise(" + describe(signo) + ")");
}

// ---- Waiting ----------------------------------------------------------------------

int wait(const Set &set, Info *info) {
    sigset_t s = set.native();
    siginfo_t si; // filled by the kernel
    return waited(sigwaitinfo(&s, &si), si, info, "sigwaitinfo");
}

int try_wait(const Set &set, Info *info) {
    sigset_t s = set.native();
    siginfo_t si; // filled by the kernel
    timespec zero{};
    int signo = sigtimedwait(&s, &si, &zero);
    if (signo < 0 && errno == EAGAIN)
        fail(EAGAIN, "sigtimedwait: no signal of the set is pending");
    return waited(signo, si, info, "sigtimedwait");
}

int timed_wait(const Set &set, double seconds, Info *info) {
    Deadline deadline(seconds); // validates
    if (deadline.infinite())
        return wait(set, info);
    sigset_t s = set.native();
    siginfo_t si; // filled by the kernel
    // sigtimedwait measures its relative timeout on the monotonic clock.
    timespec left = to_timespec(deadline.remaining());
    int signo = sigtimedwait(&s, &si, &left);
    if (signo < 0 && errno == EAGAIN)
        fail(ETIMEDOUT, "sigtimedwait: no signal of the set within " + std::to_string(seconds) + " s");
    return waited(signo, si, info, "sigtimedwait");
}

int suspend(const Set &mask) {
    sigset_t s = mask.native();
    sigsuspend(&s); // returns only after a handler ran
    return errno;
}

// ---- Signal descriptors -----------------------------------------------------------

int open_fd(const Set &set, uint32_t flags) {
    check_flags(flags, 1, "ipc_sig_fd");
    sigset_t s = set.native();
    int fd = signalfd(-1, &s, SFD_CLOEXEC | (flags & 1 ? SFD_NONBLOCK : 0));
    if (fd < 0)
        fail_errno("signalfd");
    return fd;
}

int read_fd(int fd, Info *info) {
    // Refuse other descriptors before read() would consume their data.
    char link[64];
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
    if (n < 0 && errno == ENOENT)
        fail(EBADF, "read signal descriptor " + std::to_string(fd) + ": not an open descriptor");
    if (n > 0 && std::string_view(link, size_t(n)) != "anon_inode:[signalfd]")
        fail(EINVAL, "read signal descriptor " + std::to_string(fd) + ": not a signal descriptor");
    signalfd_siginfo ssi{};
    ssize_t got = ::read(fd, &ssi, sizeof ssi);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail(EAGAIN, "read signal descriptor " + std::to_string(fd) + ": no signal pending");
    if (got < 0)
        fail_errno("read signal descriptor " + std::to_string(fd));
    if (got != sizeof ssi)
        fail(EINVAL, "read signal descriptor " + std::to_string(fd) + ": not a signal descriptor");
    if (info)
        *info = from_fd(ssi);
    return static_cast<int>(ssi.ssi_signo);
}

// ---- Names ------------------------------------------------------------------------

int number(std::string_view text) {
    auto bad = [&](const std::string &why) -> int {
        fail(EINVAL, "signal name " + quoted(text) + ": " + why);
    };
    std::string_view name = text;
    if (int n = decimal(name); n >= 0) {
        if (!valid(n))
            bad("not a valid signal number (1 to 31 and " + std::to_string(rtmin()) + " to " +
                std::to_string(rtmax()) + ")");
        return n;
    }
    if (name.size() > 3 && ieq(name.substr(0, 3), "SIG"))
        name.remove_prefix(3);
    for (const char *base : {"RTMIN", "RTMAX"}) {
        if (name.size() < 5 || !ieq(name.substr(0, 5), base))
            continue;
        const bool low = base[4] == 'N';
        std::string_view rest = name.substr(5);
        int offset = 0;
        if (!rest.empty()) {
            if (rest[0] != (low ? '+' : '-') || (offset = decimal(rest.substr(1))) < 0)
                bad(std::string("expected ") + (low ? "SIGRTMIN+n" : "SIGRTMAX-n"));
        }
        int signo = low ? rtmin() + offset : rtmax() - offset;
        if (signo < rtmin() || signo > rtmax())
            bad("beyond the real-time signals " + std::to_string(rtmin()) + " to " + std::to_string(rtmax()));
        return signo;
    }
    for (const auto &n : names)
        if (ieq(name, n.name))
            return n.signo;
    return bad("no such signal");
}

std::string name(int signo) {
    check(signo, "signal name");
    if (const char *n = standard_name(signo))
        return "SIG" + std::string(n);
    int above = signo - rtmin(), below = rtmax() - signo;
    if (above == 0)
        return "SIGRTMIN";
    if (below == 0)
        return "SIGRTMAX";
    return above <= (rtmax() - rtmin()) / 2 ? "SIGRTMIN+" + std::to_string(above)
                                            : "SIGRTMAX-" + std::to_string(below);
}

} // namespace ipc::sig
