// libFuzzer target: the C API driven by random operations and arguments on a
// few objects of every kind, live, closed, NULL and of the wrong kind. Every
// call must return 0, a count, or a documented negative code, with a message;
// a bad handle must give exactly -EBADF. Arguments are garbage values, never
// garbage addresses (which no C API can check), except handle pointers, which
// the API checks by tag. Objects live under "/ipc-fuzz-<pid>-" (System V keys
// derived from the pid) and are removed at the end of every run. Nothing
// blocks: only try forms and timed forms of at most a millisecond.
#include "ipc.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// The input, read as a stream of small choices; zeros once it runs out.
struct Input {
    const uint8_t *p;
    size_t n;
    uint8_t byte() {
        if (!n)
            return 0;
        --n;
        return *p++;
    }
    bool empty() const { return n == 0; }
    uint32_t u32() { return uint32_t(byte()) | uint32_t(byte()) << 8 | uint32_t(byte()) << 16 | uint32_t(byte()) << 24; }
    template <class T> T pick(std::initializer_list<T> values) { return values.begin()[byte() % values.size()]; }
};

enum Kind { SHM, SEM, MUTEX, COND, RWLOCK, ARRAY, SIGSET, MQ, KINDS };

struct Slot {
    void *handle;
    Kind kind;
    bool live;
    int held = 0; // locks this handle holds: mutex 0/1, rwlock -1 (write) or readers
};

std::vector<Slot> slots;
std::set<std::string> names;   // every POSIX name a run used, removed at its end
std::set<std::string> sysv;    // "key:<n>" addresses this run created
uint32_t fail_tag[4] = {0x12345678, 0, 0, 0}; // a non-handle with a bogus tag

// Memory for the in-memory objects: a few places per kind, apart.
constexpr size_t place_room = 256, places = 4;
alignas(64) unsigned char arena[KINDS][places * place_room];

void check(int rc, const char *call) {
    static const std::set<int> documented = {
        EINVAL, EBADF,  ENOENT,    EEXIST,   EAGAIN,    ETIMEDOUT, EOWNERDEAD, ENOTRECOVERABLE, EPERM,
        EACCES, ERANGE, EBADMSG,   EDEADLK,  EBUSY,     ENOMEM,    EOVERFLOW,  EFBIG,           ENOSPC,
        ESRCH,  EINTR,  ENAMETOOLONG, EMSGSIZE, EMFILE};
    if (rc >= 0)
        return;
    const char *message = ipc_last_error();
    if (!documented.count(-rc) || !message || !*message || !ipc_strerror(rc)) {
        std::fprintf(stderr, "%s returned %d (%s)\n", call, rc, message ? message : "(null)");
        std::abort();
    }
}

// A handle to pass where a handle of `want` is expected: a slot's (live,
// closed, or of another kind), NULL, or a pointer to something that is no
// handle. `bad` tells whether the call must then fail with -EBADF.
void *handle_for(Input &in, Kind want, bool &bad, Slot **slot) {
    *slot = nullptr;
    uint8_t choice = in.byte();
    if (choice < 8 || slots.empty()) {
        bad = true;
        return choice % 2 ? nullptr : static_cast<void *>(fail_tag);
    }
    // Mostly a slot of the wanted kind, when there is one.
    std::vector<size_t> mine;
    for (size_t i = 0; i < slots.size(); ++i)
        if (slots[i].kind == want)
            mine.push_back(i);
    size_t i = (choice % 4 && !mine.empty()) ? mine[in.byte() % mine.size()] : in.byte() % slots.size();
    *slot = &slots[i];
    bad = slots[i].kind != want || !slots[i].live;
    return slots[i].handle;
}

void expect_ebadf(int rc, bool bad, const char *call) {
    check(rc, call);
    if (bad && rc != -EBADF) {
        std::fprintf(stderr, "%s with a bad handle returned %d, not -EBADF\n", call, rc);
        std::abort();
    }
}

std::string name_for(Input &in) {
    std::string base = "/ipc-fuzz-" + std::to_string(getpid()) + "-";
    switch (in.byte() % 8) {
    case 0: return ""; // empty
    case 1: return "ipc-fuzz-no-slash";
    case 2: return base + "a/b";
    case 3: return base + std::string(300, 'x'); // too long
    case 4: { // bytes of the input under the prefix
        std::string s = base;
        for (int k = in.byte() % 12; k > 0; --k)
            s += static_cast<char>(in.byte() | 1); // no NUL
        names.insert(s);
        return s;
    }
    default: {
        std::string s = base + std::to_string(in.byte() % 3);
        names.insert(s);
        return s;
    }
    }
}

// An address for shared memory and arrays: a name, one of the run's keys,
// or a malformed System V form (never a real id: unlinking one could hit
// another program's segment).
std::string address_for(Input &in) {
    switch (in.byte() % 8) {
    case 0: return "key:" + std::to_string(0x1F000000 + (getpid() % 0x10000) * 4 + in.byte() % 3);
    case 1: return in.pick<const char *>({"key:0", "key:", "key:x1", "shmid:", "shmid:-1", "privat", "key:99999999999"});
    default: return name_for(in);
    }
}

uint32_t mode_for(Input &in) { return in.pick<uint32_t>({0600, 0644, 0, 0777, 07777, 0x80000000u, in.u32()}); }

uint32_t flags_for(Input &in) {
    return in.pick<uint32_t>({0, IPC_RDONLY, IPC_UNLINK_ON_CLOSE, IPC_OPEN_OR_CREATE, IPC_WRONLY,
                              IPC_OPEN_OR_CREATE | IPC_UNLINK_ON_CLOSE, IPC_RWLOCK_PREFER_WRITER, in.u32()});
}

double seconds_for(Input &in) {
    return in.pick<double>({0.0, 1e-4, 1e-3, -1.0, std::nan(""), -0.0, -std::numeric_limits<double>::infinity()});
}

int signo_for(Input &in) {
    return in.pick<int>({0, -1, 1, 9, 10, 12, 19, 31, 32, 34, ipc_sig_rtmin(), ipc_sig_rtmax(), ipc_sig_rtmax() + 1,
                         65, 1 << 20, std::numeric_limits<int>::min(), static_cast<int>(in.u32())});
}

// A place in the kind's arena: a proper one, a misaligned one, or NULL;
// `avail` never claims more than the arena has.
void *place_for(Input &in, Kind kind, size_t &avail) {
    uint8_t b = in.byte();
    if (b % 16 == 0) {
        avail = in.u32();
        return nullptr;
    }
    size_t offset = (b % places) * place_room + (b % 16 == 1 ? 1 + in.byte() % 7 : 0);
    size_t left = sizeof arena[kind] - offset;
    avail = in.byte() % 4 ? left : std::min<size_t>(in.byte(), left);
    return arena[kind] + offset;
}

void add(void *handle, Kind kind) {
    if (handle)
        slots.push_back({handle, kind, true});
}

// A robust mutex this handle holds is unlocked before its mapping goes:
// the thread's robust list points into it.
int close_any(void *h, Kind kind, Slot *slot = nullptr) {
    if (slot && slot->held && kind == MUTEX && slot->live)
        ipc_mutex_unlock(static_cast<ipc_mutex *>(h));
    switch (kind) {
    case SHM: return ipc_shm_close(static_cast<ipc_shm *>(h));
    case SEM: return ipc_sem_close(static_cast<ipc_sem *>(h));
    case MUTEX: return ipc_mutex_close(static_cast<ipc_mutex *>(h));
    case COND: return ipc_cond_close(static_cast<ipc_cond *>(h));
    case RWLOCK: return ipc_rwlock_close(static_cast<ipc_rwlock *>(h));
    case ARRAY: return ipc_array_close(static_cast<ipc_array *>(h));
    case SIGSET: return ipc_sigset_free(static_cast<ipc_sigset *>(h));
    case MQ: return ipc_mq_close(static_cast<ipc_mq *>(h));
    default: return 0;
    }
}

void create_op(Input &in) {
    Kind kind = static_cast<Kind>(in.byte() % KINDS);
    void *out = nullptr;
    int rc = 0;
    size_t avail = 0;
    switch (kind) {
    case SHM: {
        std::string a = address_for(in);
        size_t size = in.pick<size_t>({0, 1, 4096, 65536, SIZE_MAX, size_t(1) << 62, in.byte()});
        rc = in.byte() % 2 ? ipc_shm_create(reinterpret_cast<ipc_shm **>(&out), a.c_str(), size, mode_for(in), flags_for(in))
                           : ipc_shm_open(reinterpret_cast<ipc_shm **>(&out), a.c_str(), flags_for(in));
        if (rc == 0 && a.starts_with("key:"))
            sysv.insert(a);
        break;
    }
    case ARRAY: {
        std::string a = address_for(in);
        int64_t dims[IPC_ARRAY_MAXDIMS + 2];
        for (auto &d : dims)
            d = in.pick<int64_t>({1, 2, 3, 5, 0, -1, std::numeric_limits<int64_t>::max(), int64_t(1) << 40});
        int ndims = in.pick<int>({1, 2, 3, 0, -1, IPC_ARRAY_MAXDIMS, IPC_ARRAY_MAXDIMS + 1, 1 << 16});
        ndims = std::min(ndims, IPC_ARRAY_MAXDIMS + 2) == ndims ? ndims : IPC_ARRAY_MAXDIMS + 2;
        int eltype = in.pick<int>({1, 7, 10, 12, 0, 13, -1});
        if (in.byte() % 2)
            rc = ipc_array_create(reinterpret_cast<ipc_array **>(&out), a.c_str(), eltype, ndims,
                                  in.byte() % 8 ? dims : nullptr, mode_for(in), flags_for(in));
        else
            rc = ipc_array_open(reinterpret_cast<ipc_array **>(&out), a.c_str(), flags_for(in));
        if (rc == 0 && a.starts_with("key:"))
            sysv.insert(a);
        break;
    }
    case SEM: {
        uint32_t value = in.pick<uint32_t>({0, 1, 5, uint32_t(ipc_sem_value_max()), uint32_t(ipc_sem_value_max()) + 1, in.u32()});
        switch (in.byte() % 4) {
        case 0: rc = ipc_sem_create(reinterpret_cast<ipc_sem **>(&out), name_for(in).c_str(), value, mode_for(in), flags_for(in)); break;
        case 1: rc = ipc_sem_open(reinterpret_cast<ipc_sem **>(&out), name_for(in).c_str()); break;
        case 2: { void *at = place_for(in, kind, avail); rc = ipc_sem_init(reinterpret_cast<ipc_sem **>(&out), at, avail, value); break; }
        default: { void *at = place_for(in, kind, avail); rc = ipc_sem_attach(reinterpret_cast<ipc_sem **>(&out), at, avail); break; }
        }
        break;
    }
#define LOCK_CREATE(KIND, T)                                                                                        \
    case KIND: {                                                                                                    \
        switch (in.byte() % 4) {                                                                                    \
        case 0: rc = ipc_##T##_create(reinterpret_cast<ipc_##T **>(&out), name_for(in).c_str(), mode_for(in), flags_for(in)); break; \
        case 1: rc = ipc_##T##_open(reinterpret_cast<ipc_##T **>(&out), name_for(in).c_str()); break;               \
        case 2: { void *at = place_for(in, kind, avail); rc = ipc_##T##_init(reinterpret_cast<ipc_##T **>(&out), at, avail, flags_for(in)); break; } \
        default: { void *at = place_for(in, kind, avail); rc = ipc_##T##_attach(reinterpret_cast<ipc_##T **>(&out), at, avail); break; } \
        }                                                                                                           \
        break;                                                                                                      \
    }
        LOCK_CREATE(MUTEX, mutex)
        LOCK_CREATE(COND, cond)
        LOCK_CREATE(RWLOCK, rwlock)
#undef LOCK_CREATE
    case SIGSET: rc = ipc_sigset_new(reinterpret_cast<ipc_sigset **>(&out)); break;
    case MQ:
        if (in.byte() % 2)
            rc = ipc_mq_create(reinterpret_cast<ipc_mq **>(&out), name_for(in).c_str(),
                               in.pick<int64_t>({1, 4, 10, 0, -1, 1 << 20, std::numeric_limits<int64_t>::max()}),
                               in.pick<int64_t>({1, 64, 8192, 0, -1, 1 << 30}), mode_for(in), flags_for(in));
        else
            rc = ipc_mq_open(reinterpret_cast<ipc_mq **>(&out), name_for(in).c_str(), flags_for(in));
        break;
    default: break;
    }
    check(rc, "create/open");
    if ((rc == 0) != (out != nullptr)) {
        std::fprintf(stderr, "create/open of kind %d returned %d with out %p\n", kind, rc, out);
        std::abort();
    }
    add(out, kind);
    // A NULL out-parameter is always EINVAL.
    if (in.byte() % 16 == 0 && ipc_sem_open(nullptr, "/x") != -EINVAL)
        std::abort();
}

void use_op(Input &in) {
    bool bad = false;
    Slot *slot = nullptr;
    Kind kind = static_cast<Kind>(in.byte() % KINDS);
    void *h = handle_for(in, kind, bad, &slot);
    uint8_t verb = in.byte();
    int rc = 0;
    switch (kind) {
    case SHM: {
        auto *s = static_cast<ipc_shm *>(h);
        char buf[64];
        ipc_shm_info info;
        switch (verb % 6) {
        case 0: { void *addr = ipc_shm_addr(s); size_t size = ipc_shm_size(s);
                  if (bad && (addr || size)) std::abort();
                  if (!bad && size && !ipc_shm_readonly(s)) static_cast<volatile char *>(addr)[size - 1] = 1;
                  return; }
        case 1: rc = ipc_shm_address(s, in.byte() % 4 ? buf : nullptr, in.pick<size_t>({sizeof buf, 0, 1, 5})); break;
        case 2: rc = ipc_shm_fstat(s, in.byte() % 4 ? &info : nullptr); break;
        case 3: rc = ipc_shm_chmod(s, mode_for(in)); break;
        case 4: rc = ipc_shm_readonly(s); break;
        default: rc = ipc_shm_stat(address_for(in).c_str(), &info); bad = false; break;
        }
        break;
    }
    case ARRAY: {
        auto *a = static_cast<ipc_array *>(h);
        char buf[64];
        switch (verb % 5) {
        case 0: {
            void *data = ipc_array_data(a);
            int64_t length = ipc_array_length(a);
            size_t bytes = ipc_array_bytes(a);
            if (bad && (data || length > 0 || bytes))
                std::abort();
            if (!bad && bytes && !ipc_array_readonly(a))
                static_cast<volatile char *>(data)[bytes - 1] = 1;
            return;
        }
        case 1: rc = ipc_array_eltype(a); break;
        case 2: rc = ipc_array_ndims(a); break;
        case 3: { int64_t d = ipc_array_dim(a, in.pick<int>({0, 1, -1, 40, 1 << 20})); if (d < 0) check(static_cast<int>(d), "ipc_array_dim"); return; }
        default: rc = ipc_array_address(a, in.byte() % 4 ? buf : nullptr, in.pick<size_t>({sizeof buf, 0, 3})); break;
        }
        break;
    }
    case SEM: {
        auto *s = static_cast<ipc_sem *>(h);
        switch (verb % 5) {
        case 0: rc = ipc_sem_post(s); break;
        case 1: rc = ipc_sem_trywait(s); break;
        case 2: rc = ipc_sem_timedwait(s, seconds_for(in)); break;
        case 3: rc = ipc_sem_value(s); break;
        default: rc = ipc_sem_set_spin(s, in.pick<int64_t>({0, 1000, 100000, -1, std::numeric_limits<int64_t>::min()})); break;
        }
        break;
    }
    case MUTEX: {
        auto *m = static_cast<ipc_mutex *>(h);
        switch (verb % 5) {
        case 0: rc = ipc_mutex_trylock(m); break;
        case 1: rc = ipc_mutex_timedlock(m, seconds_for(in)); break;
        case 2: rc = ipc_mutex_unlock(m); break;
        case 3: rc = ipc_mutex_consistent(m); break;
        default: rc = ipc_mutex_set_spin(m, in.pick<int64_t>({0, 1000, -1})); break;
        }
        if (slot && !bad && verb % 5 < 2 && (rc == 0 || rc == -EOWNERDEAD))
            slot->held = 1;
        if (slot && !bad && verb % 5 == 2 && rc == 0)
            slot->held = 0;
        break;
    }
    case COND: {
        auto *c = static_cast<ipc_cond *>(h);
        switch (verb % 3) {
        case 0: rc = ipc_cond_signal(c); break;
        case 1: rc = ipc_cond_broadcast(c); break;
        default: {
            // Waits only with a mutex this thread holds (anything else is
            // undefined in POSIX) or a bad mutex handle, which is refused first.
            bool bad_mutex = false;
            Slot *ms = nullptr;
            auto *m = static_cast<ipc_mutex *>(handle_for(in, MUTEX, bad_mutex, &ms));
            if (!bad_mutex && !(ms && ms->held))
                return;
            rc = ipc_cond_timedwait(c, m, seconds_for(in));
            bad = bad || bad_mutex;
            break;
        }
        }
        break;
    }
    case RWLOCK: {
        auto *r = static_cast<ipc_rwlock *>(h);
        switch (verb % 5) {
        case 0: rc = ipc_rwlock_tryrdlock(r); break;
        case 1: rc = ipc_rwlock_trywrlock(r); break;
        case 2: rc = ipc_rwlock_timedrdlock(r, seconds_for(in)); break;
        case 3: rc = ipc_rwlock_timedwrlock(r, seconds_for(in)); break;
        default: rc = ipc_rwlock_unlock(r); break;
        }
        break;
    }
    case SIGSET: {
        auto *s = static_cast<ipc_sigset *>(h);
        ipc_siginfo info;
        switch (verb % 8) {
        case 0: rc = ipc_sigset_add(s, signo_for(in)); break;
        case 1: rc = ipc_sigset_del(s, signo_for(in)); break;
        case 2: rc = ipc_sigset_has(s, signo_for(in)); break;
        case 3: rc = ipc_sigset_fill(s); break;
        case 4: rc = ipc_sigset_next(s, signo_for(in)); break;
        case 5: rc = ipc_sig_trywait(s, in.byte() % 2 ? &info : nullptr); break;
        case 6: rc = ipc_sig_pending(s); break;
        default: { // reads the mask only: changing it would disturb the fuzzer
            rc = ipc_sig_mask(in.pick<int>({IPC_SIG_BLOCK, 7, -1}), nullptr, s);
            bad = bad && s != nullptr; // a NULL old is allowed: then nothing is read
            break;
        }
        }
        break;
    }
    case MQ: {
        auto *q = static_cast<ipc_mq *>(h);
        // Lengths never beyond the buffer: the API cannot check those.
        static char buf[16384];
        size_t len = in.pick<size_t>({0, 1, 100, 8192, sizeof buf});
        uint32_t prio = in.pick<uint32_t>({0, 1, 31, ipc_mq_priority_max(), ipc_mq_priority_max() + 1, in.u32()});
        uint32_t got = 0;
        switch (verb % 8) {
        case 0: rc = ipc_mq_trysend(q, in.byte() % 8 ? buf : nullptr, len, prio); break;
        case 1: rc = ipc_mq_timedsend(q, buf, len, prio, seconds_for(in)); break;
        case 2: rc = ipc_mq_tryreceive(q, in.byte() % 8 ? buf : nullptr, len, in.byte() % 2 ? &got : nullptr); break;
        case 3: rc = ipc_mq_timedreceive(q, buf, len, &got, seconds_for(in)); break;
        case 4: { int64_t v = ipc_mq_capacity(q); rc = v < 0 ? static_cast<int>(v) : 0; break; }
        case 5: { int64_t v = ipc_mq_msgsize(q); rc = v < 0 ? static_cast<int>(v) : 0; break; }
        case 6: { int64_t v = ipc_mq_count(q); rc = v < 0 ? static_cast<int>(v) : 0; break; }
        default: rc = ipc_mq_fd(q); break;
        }
        break;
    }
    default: break;
    }
    expect_ebadf(rc, bad, "use");
}

void global_op(Input &in) {
    char buf[32];
    int rc = 0;
    switch (in.byte() % 6) {
    case 0: { std::string text; for (int k = in.byte() % 16; k > 0; --k) text += static_cast<char>(in.byte() | 1);
              rc = ipc_sig_number(in.byte() % 8 ? text.c_str() : nullptr); break; }
    case 1: rc = ipc_sig_name(signo_for(in), in.byte() % 8 ? buf : nullptr, in.pick<size_t>({sizeof buf, 0, 4})); break;
    case 2: // invalid signal numbers only: a real signal to a garbage pid could hit anyone
        rc = ipc_sig_queue(static_cast<int>(in.u32()), in.pick<int>({-1, 65, 1 << 20, std::numeric_limits<int>::min()}), 0);
        if (rc != -EINVAL) std::abort();
        break;
    case 3: if (!ipc_strerror(static_cast<int>(in.u32()))) std::abort(); return;
    case 4: { std::string a = address_for(in);
              // Only names of this run: a System V id could be anyone's.
              rc = a.starts_with("/") ? ipc_shm_unlink(a.c_str()) : ipc_sem_unlink(a.c_str()); break; }
    default: rc = ipc_mutex_unlink(name_for(in).c_str()); break;
    }
    check(rc, "global");
}

void close_op(Input &in) {
    bool bad = false;
    Slot *slot = nullptr;
    Kind kind = static_cast<Kind>(in.byte() % KINDS);
    void *h = handle_for(in, kind, bad, &slot);
    int rc = close_any(h, kind, bad ? nullptr : slot);
    if (h == nullptr && rc != 0) // closing NULL is a no-op
        std::abort();
    if (h)
        expect_ebadf(rc, bad, "close");
    if (slot && !bad)
        slot->live = false;
}

void clean_up() {
    for (Slot &s : slots)
        if (s.live && close_any(s.handle, s.kind, &s) != 0)
            std::abort();
    slots.clear();
    for (const std::string &name : names) {
        ipc_shm_unlink(name.c_str()); // shared memory, arrays and named locks
        ipc_sem_unlink(name.c_str());
        ipc_mq_unlink(name.c_str());
    }
    names.clear();
    for (const std::string &key : sysv)
        ipc_shm_unlink(key.c_str());
    sysv.clear();
    std::memset(arena, 0, sizeof arena);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Input in{data, size};
    for (int step = 0; step < 48 && !in.empty(); ++step) {
        switch (in.byte() % 8) {
        case 0: case 1: create_op(in); break;
        case 2: global_op(in); break;
        case 3: close_op(in); break;
        default: use_op(in); break;
        }
    }
    clean_up();
    return 0;
}
