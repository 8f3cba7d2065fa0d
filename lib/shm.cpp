#include "shm.hpp"

#include "common.hpp"

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace ipc {

namespace {

// Where glibc keeps POSIX shared memory objects; creation links a finished
// anonymous file here so that nobody sees an object without its size and mode.
constexpr const char *shm_dir = "/dev/shm";

std::string posix_path(const std::string &name) { return shm_dir + name; }

// Parses the number of "key:<n>" or "shmid:<n>": decimal, or 0x hexadecimal.
int64_t parse_number(std::string_view text, std::string_view address) {
    auto bad = [&](const char *why) {
        fail(EINVAL, "address " + quoted(address) + ": " + why);
    };
    bool negative = !text.empty() && text.front() == '-';
    if (negative)
        text.remove_prefix(1);
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty())
        bad("the number is missing");
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && value > UINT32_MAX))
        bad("the number is out of range");
    if (ec != std::errc() || end != text.data() + text.size())
        bad("the number is not a decimal or 0x hexadecimal integer");
    return negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
}

ShmInfo info_of(const struct stat &st) {
    ShmInfo info;
    info.size = static_cast<uint64_t>(st.st_size);
    info.atime = st.st_atime;
    info.dtime = st.st_mtime;
    info.ctime = st.st_ctime;
    info.kind = 1;
    info.key = 0;
    info.mode = st.st_mode & 0777;
    info.uid = info.cuid = st.st_uid;
    info.gid = info.cgid = st.st_gid;
    return info;
}

ShmInfo info_of(int id, const shmid_ds &ds) {
    ShmInfo info;
    info.size = ds.shm_segsz;
    info.atime = ds.shm_atime;
    info.dtime = ds.shm_dtime;
    info.ctime = ds.shm_ctime;
    info.nattch = static_cast<int64_t>(ds.shm_nattch);
    info.kind = 2;
    info.id = id;
    info.key = ds.shm_perm.__key;
    info.cpid = ds.shm_cpid;
    info.lpid = ds.shm_lpid;
    info.mode = ds.shm_perm.mode & 0777;
    info.uid = ds.shm_perm.uid;
    info.gid = ds.shm_perm.gid;
    info.cuid = ds.shm_perm.cuid;
    info.cgid = ds.shm_perm.cgid;
    return info;
}

// IPC_STAT of a segment; a vanished id reads as ENOENT, as a missing name would.
shmid_ds sysv_stat(int id, const std::string &context) {
    shmid_ds ds{};
    if (shmctl(id, IPC_STAT, &ds) < 0)
        fail(errno == EINVAL || errno == EIDRM ? ENOENT : errno, context);
    return ds;
}

// The identifier of an existing System V segment.
int sysv_id(const ShmAddress &where, const std::string &context) {
    if (where.kind == ShmAddress::Kind::id) {
        sysv_stat(where.id, context);
        return where.id;
    }
    int id = shmget(where.key, 0, 0);
    if (id < 0)
        fail_errno(context);
    return id;
}

void check_size(size_t size, std::string_view address) {
    if (size == 0)
        fail(EINVAL, "shm create " + quoted(address) + ": size 0; a shared memory object needs at least 1 byte");
    if (size > static_cast<size_t>(PTRDIFF_MAX))
        fail(EINVAL, "shm create " + quoted(address) + ": size " + std::to_string(size) +
                         " is larger than any mapping can be");
}

} // namespace

ShmAddress ShmAddress::parse(std::string_view text) {
    ShmAddress where;
    if (text == "private") {
        where.kind = Kind::private_segment;
    } else if (text.starts_with("key:")) {
        int64_t n = parse_number(text.substr(4), text);
        if (n == 0)
            fail(EINVAL, "address \"key:0\": 0 is IPC_PRIVATE, not a key; use \"private\"");
        if (n < INT32_MIN)
            fail(EINVAL, "address " + quoted(text) + ": the number is out of range");
        where.kind = Kind::key;
        where.key = static_cast<int32_t>(static_cast<uint32_t>(n)); // 0xffffffff is key -1
    } else if (text.starts_with("shmid:")) {
        int64_t n = parse_number(text.substr(6), text);
        if (n < 0 || n > INT_MAX)
            fail(EINVAL, "address " + quoted(text) + ": the number is out of range");
        where.kind = Kind::id;
        where.id = static_cast<int>(n);
    } else {
        if (!text.empty() && text.front() != '/')
            fail(EINVAL, "address " + quoted(text) +
                             ": must start with '/' (a POSIX name), or be \"key:<n>\", \"shmid:<n>\" or \"private\"");
        check_name(text);
        where.name = std::string(text);
    }
    return where;
}

SharedMemory::SharedMemory(SharedMemory &&other) noexcept { *this = std::move(other); }

SharedMemory &SharedMemory::operator=(SharedMemory &&other) noexcept {
    if (this != &other) {
        release();
        where_ = std::move(other.where_);
        addr_ = std::exchange(other.addr_, nullptr);
        size_ = std::exchange(other.size_, 0);
        fd_ = std::exchange(other.fd_, -1);
        readonly_ = other.readonly_;
        created_ = other.created_;
        unlink_on_close_ = std::exchange(other.unlink_on_close_, UnlinkOnClose());
    }
    return *this;
}

SharedMemory::~SharedMemory() { release(); }

namespace {

// Whether the calling thread holds a robust mutex that lies in [addr,
// addr + size). Its robust list, which glibc and the kernel walk through the
// held mutexes themselves, then points into that memory: unmapping it would
// make the thread's next unlock of any other robust mutex read unmapped memory
// and crash, and keep the kernel from marking the mutex when the thread dies.
bool holds_robust_lock_in(const void *addr, size_t size) noexcept {
    robust_list_head *head = nullptr;
    size_t length = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &length) != 0 || !head)
        return false;
    const auto begin = reinterpret_cast<uintptr_t>(addr), end = begin + size;
    const robust_list *entry = head->list.next;
    for (int n = 0; entry && entry != &head->list && n < 2048; ++n) { // the kernel's own bound
        const auto at = reinterpret_cast<uintptr_t>(entry) & ~uintptr_t(1); // bit 0 marks PI mutexes
        if (at >= begin && at < end)
            return true;
        entry = reinterpret_cast<const robust_list *>(at)->next;
    }
    return false;
}

} // namespace

void SharedMemory::release() noexcept {
    // A mapping holding a mutex that this thread holds stays mapped until the
    // process ends (see holds_robust_lock_in); the handle goes all the same.
    if (addr_ && holds_robust_lock_in(addr_, size_))
        addr_ = nullptr;
    if (where_.sysv()) {
        if (addr_)
            shmdt(addr_);
        if (unlink_on_close_)
            shmctl(where_.id, IPC_RMID, nullptr);
    } else {
        if (addr_)
            munmap(addr_, size_);
        // Remove the name only if it still names our object.
        struct stat mine {}, named{};
        if (unlink_on_close_ && fd_ >= 0 && fstat(fd_, &mine) == 0 &&
            ::stat(posix_path(where_.name).c_str(), &named) == 0 && mine.st_ino == named.st_ino &&
            mine.st_dev == named.st_dev)
            shm_unlink(where_.name.c_str());
        if (fd_ >= 0)
            ::close(fd_);
    }
    addr_ = nullptr;
    fd_ = -1;
    unlink_on_close_ = UnlinkOnClose();
}

namespace {

void *map(int fd, size_t size, bool readonly, const std::string &context) {
    void *addr = mmap(nullptr, size, readonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED)
        fail_errno(context);
    return addr;
}

} // namespace

SharedMemory SharedMemory::create(std::string_view address, size_t size, uint32_t mode,
                                  uint32_t flags, const Init &init) {
    check_flags(flags, unlink_on_close | open_or_create, "shm create");
    SharedMemory shm;
    shm.where_ = ShmAddress::parse(address);
    if (shm.where_.kind == ShmAddress::Kind::id)
        fail(EINVAL, "shm create " + quoted(address) +
                         ": a segment cannot be created by id; use \"key:<n>\" or \"private\"");
    check_size(size, address);
    mode_t perms = creation_mode(mode);
    std::string context = "shm create " + quoted(address);
    shm.unlink_on_close_ = UnlinkOnClose(flags & unlink_on_close);

    if (shm.where_.sysv()) {
        key_t key = shm.where_.kind == ShmAddress::Kind::key ? shm.where_.key : IPC_PRIVATE;
        int id = shmget(key, size, IPC_CREAT | IPC_EXCL | static_cast<int>(perms));
        if (id < 0 && errno == EEXIST && (flags & open_or_create)) {
            shm.unlink_on_close_ = UnlinkOnClose();
            SharedMemory existing = open(address, flags & unlink_on_close);
            if (existing.size() < size)
                fail(EINVAL, context + ": exists with " + std::to_string(existing.size()) +
                                 " bytes, fewer than the " + std::to_string(size) + " asked for");
            return existing;
        }
        if (id < 0)
            fail_errno(context);
        shm.where_.kind = ShmAddress::Kind::id;
        shm.where_.id = id;
        shm.created_ = true;
        void *addr = shmat(id, nullptr, 0);
        if (addr == reinterpret_cast<void *>(-1)) {
            int err = errno;
            shmctl(id, IPC_RMID, nullptr);
            fail(err, context);
        }
        shm.addr_ = addr;
        shm.size_ = size;
        if (init)
            init(addr, size);
        return shm;
    }

    const std::string &name = shm.where_.name;
    for (int attempt = 0;; ++attempt) {
        // An anonymous file, published by link once it is complete.
        int fd = ::open(shm_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, perms);
        bool anonymous = fd >= 0;
        if (!anonymous)
            fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, perms);
        if (fd >= 0) {
            shm.fd_ = fd;
            record_creator(fd);
            if (fchmod(fd, perms) < 0 || ftruncate(fd, static_cast<off_t>(size)) < 0) {
                int err = errno;
                if (!anonymous)
                    shm_unlink(name.c_str());
                fail(err, context);
            }
            try {
                shm.addr_ = map(fd, size, false, context);
                shm.size_ = size;
                if (init)
                    init(shm.addr_, size);
            } catch (...) {
                if (!anonymous)
                    shm_unlink(name.c_str());
                throw;
            }
            if (!anonymous) {
                shm.created_ = true;
                return shm;
            }
            std::string proc = "/proc/self/fd/" + std::to_string(fd);
            if (linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, posix_path(name).c_str(), AT_SYMLINK_FOLLOW) == 0) {
                shm.created_ = true;
                return shm;
            }
            if (errno != EEXIST)
                fail_errno(context);
            shm.release();
        } else if (errno != EEXIST) {
            fail_errno(context);
        }
        if (!(flags & open_or_create))
            fail(EEXIST, context);
        // It exists: open it, unless it vanished in between (then try again).
        try {
            SharedMemory existing = open(address, flags & unlink_on_close);
            if (existing.size() < size)
                fail(EINVAL, context + ": exists with " + std::to_string(existing.size()) +
                                 " bytes, fewer than the " + std::to_string(size) + " asked for");
            return existing;
        } catch (const std::system_error &e) {
            if (e.code().value() != ENOENT || attempt >= 100)
                throw;
        }
    }
}

SharedMemory SharedMemory::open(std::string_view address, uint32_t flags) {
    check_flags(flags, rdonly | unlink_on_close, "shm open");
    SharedMemory shm;
    shm.where_ = ShmAddress::parse(address);
    std::string context = "shm open " + quoted(address);
    if (shm.where_.kind == ShmAddress::Kind::private_segment)
        fail(EINVAL, context + ": \"private\" makes a new segment; open an existing one by \"shmid:<n>\"");
    shm.readonly_ = flags & rdonly;
    shm.unlink_on_close_ = UnlinkOnClose(flags & unlink_on_close);

    if (shm.where_.sysv()) {
        int id = sysv_id(shm.where_, context);
        shmid_ds ds = sysv_stat(id, context);
        void *addr = shmat(id, nullptr, shm.readonly_ ? SHM_RDONLY : 0);
        if (addr == reinterpret_cast<void *>(-1))
            fail_errno(context);
        shm.where_.kind = ShmAddress::Kind::id;
        shm.where_.id = id;
        shm.addr_ = addr;
        shm.size_ = ds.shm_segsz;
        return shm;
    }

    shm.fd_ = shm_open(shm.where_.name.c_str(), (shm.readonly_ ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
    if (shm.fd_ < 0)
        fail_errno(context);
    struct stat st {};
    if (fstat(shm.fd_, &st) < 0)
        fail_errno(context);
    if (st.st_size <= 0)
        fail(EINVAL, context + ": the object is empty (size 0), there is nothing to map");
    shm.size_ = static_cast<size_t>(st.st_size);
    shm.addr_ = map(shm.fd_, shm.size_, shm.readonly_, context);
    return shm;
}

void SharedMemory::unlink(std::string_view address) {
    ShmAddress where = ShmAddress::parse(address);
    std::string context = "shm unlink " + quoted(address);
    if (where.kind == ShmAddress::Kind::private_segment)
        fail(EINVAL, context + ": \"private\" names no existing segment; use \"shmid:<n>\"");
    if (!where.sysv()) {
        if (shm_unlink(where.name.c_str()) < 0)
            fail_errno(context);
        return;
    }
    if (shmctl(sysv_id(where, context), IPC_RMID, nullptr) < 0)
        fail(errno == EINVAL || errno == EIDRM ? ENOENT : errno, context);
}

ShmInfo SharedMemory::stat(std::string_view address) {
    ShmAddress where = ShmAddress::parse(address);
    std::string context = "shm stat " + quoted(address);
    if (where.kind == ShmAddress::Kind::private_segment)
        fail(EINVAL, context + ": \"private\" names no existing segment; use \"shmid:<n>\"");
    if (where.sysv()) {
        int id = sysv_id(where, context);
        return info_of(id, sysv_stat(id, context));
    }
    struct stat st {};
    if (::stat(posix_path(where.name).c_str(), &st) < 0)
        fail_errno(context);
    return info_of(st);
}

int32_t SharedMemory::key(const char *path, int proj) {
    if (proj < 1 || proj > 255)
        fail(EINVAL, "shm key: project number " + std::to_string(proj) + " is outside 1..255");
    key_t key = ftok(path, proj);
    if (key == -1)
        fail_errno("shm key " + quoted(path));
    return key;
}

std::string SharedMemory::address() const {
    return where_.sysv() ? "shmid:" + std::to_string(where_.id) : where_.name;
}

ShmInfo SharedMemory::info() const {
    std::string context = "shm info " + quoted(address());
    if (where_.sysv())
        return info_of(where_.id, sysv_stat(where_.id, context));
    struct stat st {};
    if (fstat(fd_, &st) < 0)
        fail_errno(context);
    return info_of(st);
}

void SharedMemory::chmod(uint32_t mode) {
    mode_t perms = creation_mode(mode);
    std::string context = "shm chmod " + quoted(address());
    if (!where_.sysv()) {
        if (fchmod(fd_, perms) < 0)
            fail_errno(context);
        return;
    }
    shmid_ds ds = sysv_stat(where_.id, context);
    ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) | perms;
    if (shmctl(where_.id, IPC_SET, &ds) < 0)
        fail_errno(context);
}

} // namespace ipc
