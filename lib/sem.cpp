#include "sem.hpp"

#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace ipc {

namespace {

// glibc keeps the named semaphore "/x" in the file /dev/shm/sem.x, holding
// one process-shared sem_t; sem_open maps that file. Using the same file
// and contents makes our semaphores and theirs interchangeable.
constexpr const char *sem_dir = "/dev/shm";
// "sem." plus the name must fit in NAME_MAX (255) bytes.
constexpr size_t name_max = 251;

std::string sem_path(std::string_view name) {
    return std::string(sem_dir) + "/sem." + std::string(name.substr(1));
}

std::string at(const void *addr) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", addr);
    return buf;
}

void check_value(uint32_t value, const char *what) {
    if (value > static_cast<uint32_t>(SEM_VALUE_MAX))
        fail(EINVAL, std::string(what) + ": value " + std::to_string(value) +
                         " is above SEM_VALUE_MAX (" + std::to_string(SEM_VALUE_MAX) + ")");
}

// The bytes sem_init(pshared = 1) writes that differ from sem_init(pshared = 0):
// glibc's futex "private" field, 0 in zeroed memory. Learnt at run time from
// sem_init itself rather than from glibc's private layout.
struct SharedMarker {
    unsigned char mask[sizeof(sem_t)];
    unsigned char bytes[sizeof(sem_t)];
};

const SharedMarker &shared_marker() {
    static const SharedMarker marker = [] {
        sem_t shared, local;
        std::memset(&shared, 0, sizeof shared);
        std::memset(&local, 0, sizeof local);
        sem_init(&shared, 1, 0);
        sem_init(&local, 0, 0);
        SharedMarker m{};
        std::memcpy(m.bytes, &shared, sizeof shared);
        const auto *a = reinterpret_cast<const unsigned char *>(&shared);
        const auto *b = reinterpret_cast<const unsigned char *>(&local);
        for (size_t i = 0; i < sizeof(sem_t); ++i)
            m.mask[i] = a[i] ^ b[i];
        return m;
    }();
    return marker;
}

// Rejects memory that cannot be a process-shared semaphore: zeroed or
// never-initialised memory, a process-private sem_t, a value out of range.
// Garbage that happens to carry the marker and a valid value passes: a
// plain sem_t has no room for a stronger signature.
void check_semaphore(sem_t *sem, const std::string &context) {
    const SharedMarker &m = shared_marker();
    const auto *p = reinterpret_cast<const volatile unsigned char *>(sem);
    for (size_t i = 0; i < sizeof(sem_t); ++i)
        if (m.mask[i] && ((p[i] ^ m.bytes[i]) & m.mask[i]))
            fail(EINVAL, context + ": the memory holds no process-shared semaphore "
                                   "(zeroed, never initialised, or initialised for one process only)");
    int value = -1;
    if (sem_getvalue(sem, &value) < 0 || value < 0 || value > SEM_VALUE_MAX)
        fail(EINVAL, context + ": the memory holds no semaphore (its value is out of range)");
}

sem_t *map_semaphore(int fd, const std::string &context) {
    void *addr = mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED)
        fail_errno(context);
    return static_cast<sem_t *>(addr);
}

struct Fd {
    int fd = -1;
    std::string temporary; // a name to remove, when O_TMPFILE was not available
    ~Fd() {
        if (!temporary.empty())
            ::unlink(temporary.c_str());
        if (fd >= 0)
            ::close(fd);
    }
};

// A complete semaphore file, not yet visible under its name: the initialised
// sem_t written and the exact mode set with fchmod (creation applies the
// umask; fchmod does not, and the process umask is never touched).
// O_TMPFILE gives a file without a name; where it is unsupported, a random
// temporary name that is never a valid "sem." name is used as glibc does.
void make_file(Fd &file, mode_t perms, uint32_t value, const std::string &context) {
    file.fd = ::open(sem_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, perms);
    if (file.fd < 0) {
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            fail_errno(context);
        static thread_local std::mt19937_64 rng{std::random_device{}()};
        for (int attempt = 0; file.fd < 0; ++attempt) {
            std::string path = std::string(sem_dir) + "/ipc-sem-tmp-" + std::to_string(rng());
            file.fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, perms);
            if (file.fd >= 0)
                file.temporary = path;
            else if (errno != EEXIST || attempt > 100)
                fail_errno(context);
        }
    }
    record_creator(file.fd); // so `ipc rm --stale` knows a semaphore whose creator died
    sem_t fresh;
    std::memset(&fresh, 0, sizeof fresh);
    if (sem_init(&fresh, 1, value) < 0 || fchmod(file.fd, perms) < 0)
        fail_errno(context);
    if (::write(file.fd, &fresh, sizeof fresh) != static_cast<ssize_t>(sizeof fresh))
        fail(errno ? errno : EIO, context);
}

// Publishes the finished file under `path` in one step; false if the name exists.
bool publish(const Fd &file, const std::string &path, const std::string &context) {
    int rc = file.temporary.empty()
                 ? linkat(AT_FDCWD, ("/proc/self/fd/" + std::to_string(file.fd)).c_str(), AT_FDCWD,
                          path.c_str(), AT_SYMLINK_FOLLOW)
                 : ::link(file.temporary.c_str(), path.c_str());
    if (rc == 0)
        return true;
    if (errno != EEXIST)
        fail_errno(context);
    return false;
}

} // namespace

void check_room(const void *addr, size_t avail, size_t size, size_t align, const char *what) {
    if (!addr)
        fail(EINVAL, std::string(what) + ": the address is NULL");
    if (reinterpret_cast<uintptr_t>(addr) % align != 0)
        fail(EINVAL, std::string(what) + " at " + at(addr) + ": the address is not aligned to " +
                         std::to_string(align) + " bytes");
    if (avail < size)
        fail(EINVAL, std::string(what) + " at " + at(addr) + ": " + std::to_string(avail) +
                         " bytes available, " + std::to_string(size) + " needed");
}

int Semaphore::value_max() { return SEM_VALUE_MAX; }

Semaphore::Semaphore(Semaphore &&other) noexcept { *this = std::move(other); }

Semaphore &Semaphore::operator=(Semaphore &&other) noexcept {
    if (this != &other) {
        release();
        sem_ = std::exchange(other.sem_, nullptr);
        name_ = std::move(other.name_);
        spin_ = other.spin_;
        created_ = other.created_;
        unlink_on_close_ = std::exchange(other.unlink_on_close_, UnlinkOnClose());
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

Semaphore::~Semaphore() { release(); }

void Semaphore::release() noexcept {
    // A semaphore in memory is left as it is: other processes may use it,
    // and the memory's owner decides its lifetime.
    if (sem_ && named()) {
        munmap(sem_, sizeof(sem_t));
        struct stat named {};
        if (unlink_on_close_ && ::stat(sem_path(name_).c_str(), &named) == 0 && named.st_dev == dev_ &&
            named.st_ino == ino_)
            sem_unlink(name_.c_str());
    }
    sem_ = nullptr;
    unlink_on_close_ = UnlinkOnClose();
}

std::string Semaphore::context(const char *verb) const {
    return std::string("sem ") + verb + " " + (named() ? quoted(name_) : "at " + at(sem_));
}

Semaphore Semaphore::create(std::string_view name, uint32_t value, uint32_t mode, uint32_t flags) {
    check_flags(flags, unlink_on_close | open_or_create, "sem create");
    check_name(name, name_max);
    check_value(value, "sem create");
    mode_t perms = creation_mode(mode);
    std::string context = "sem create " + quoted(name);
    std::string path = sem_path(name);
    for (int attempt = 0;; ++attempt) {
        {
            Fd file;
            make_file(file, perms, value, context);
            if (publish(file, path, context)) {
                struct stat st {};
                if (fstat(file.fd, &st) < 0)
                    fail_errno(context);
                Semaphore sem;
                sem.name_ = std::string(name);
                sem.dev_ = st.st_dev;
                sem.ino_ = st.st_ino;
                sem.created_ = true;
                sem.unlink_on_close_ = UnlinkOnClose(flags & unlink_on_close);
                try {
                    sem.sem_ = map_semaphore(file.fd, context);
                } catch (...) {
                    sem_unlink(sem.name_.c_str()); // just published: remove it again
                    throw;
                }
                return sem;
            }
        }
        if (!(flags & open_or_create))
            fail(EEXIST, context);
        // It exists: open it, unless it vanished in between (then try again).
        try {
            Semaphore sem = open(name);
            sem.unlink_on_close_ = UnlinkOnClose(flags & unlink_on_close);
            return sem;
        } catch (const std::system_error &e) {
            if (e.code().value() != ENOENT || attempt >= 100)
                throw;
        }
    }
}

Semaphore Semaphore::open(std::string_view name) {
    check_name(name, name_max);
    std::string context = "sem open " + quoted(name);
    Fd file;
    file.fd = ::open(sem_path(name).c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (file.fd < 0)
        fail_errno(context);
    struct stat st {};
    if (fstat(file.fd, &st) < 0)
        fail_errno(context);
    if (st.st_size < static_cast<off_t>(sizeof(sem_t)))
        fail(EINVAL, context + ": the file holds " + std::to_string(st.st_size) +
                         " bytes, too few for a semaphore");
    Semaphore sem;
    sem.name_ = std::string(name);
    sem.dev_ = st.st_dev;
    sem.ino_ = st.st_ino;
    sem.sem_ = map_semaphore(file.fd, context);
    check_semaphore(sem.sem_, context);
    return sem;
}

Semaphore Semaphore::init(void *addr, size_t avail, uint32_t value) {
    check_room(addr, avail, sizeof(sem_t), alignof(sem_t), "sem init");
    check_value(value, "sem init");
    if (sem_init(static_cast<sem_t *>(addr), 1, value) < 0)
        fail_errno("sem init at " + at(addr));
    Semaphore sem;
    sem.sem_ = static_cast<sem_t *>(addr);
    sem.created_ = true;
    return sem;
}

Semaphore Semaphore::attach(void *addr, size_t avail) {
    check_room(addr, avail, sizeof(sem_t), alignof(sem_t), "sem attach");
    check_semaphore(static_cast<sem_t *>(addr), "sem attach at " + at(addr));
    Semaphore sem;
    sem.sem_ = static_cast<sem_t *>(addr);
    return sem;
}

void Semaphore::unlink(std::string_view name) {
    check_name(name, name_max);
    if (sem_unlink(std::string(name).c_str()) < 0)
        fail_errno("sem unlink " + quoted(name));
}

void Semaphore::post() {
    if (sem_post(sem_) < 0)
        fail_errno(context("post"));
}

// Spinning polls with sem_trywait, which only reads while the value is 0 and
// takes a unit with an atomic compare-and-swap otherwise. The semaphore stays
// a plain sem_t: a post either lands before a poll (the poll takes it) or
// after the last one (sem_wait then sees it or is woken by it), so no
// wake-up is lost whatever the interleaving.
void Semaphore::wait() {
    int64_t spin_ns = spin();
    if (spin_ns > 0 && spin_until(spin_ns, [&] { return sem_trywait(sem_) == 0; }))
        return;
    if (sem_wait(sem_) < 0)
        fail_errno(context("wait")); // EINTR included: a handler ran, the caller decides
}

bool Semaphore::try_wait() {
    if (sem_trywait(sem_) == 0)
        return true;
    if (errno != EAGAIN)
        fail_errno(context("trywait"));
    return false;
}

bool Semaphore::timed_wait(double seconds) {
    Deadline deadline(seconds);
    if (deadline.infinite()) {
        wait();
        return true;
    }
    int64_t spin_ns = spin_.within(deadline);
    if (spin_ns > 0 && spin_until(spin_ns, [&] { return sem_trywait(sem_) == 0; }))
        return true;
    // An absolute CLOCK_MONOTONIC deadline: a wall-clock jump changes nothing.
    // A deadline already past still takes an available unit first.
    if (sem_clockwait(sem_, CLOCK_MONOTONIC, &deadline.monotonic()) == 0)
        return true;
    if (errno != ETIMEDOUT)
        fail_errno(context("timedwait"));
    return false;
}

int Semaphore::value() const {
    int value = 0;
    if (sem_getvalue(sem_, &value) < 0)
        fail_errno(context("value"));
    return value;
}


} // namespace ipc
