#include "mq.hpp"

#include "common.hpp"

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace ipc {

namespace {

constexpr const char *proc_dir = "/proc/sys/fs/mqueue/";

// A value of /proc/sys/fs/mqueue, or the kernel's default when unreadable.
int64_t proc_value(const char *file, int64_t fallback) {
    std::ifstream in(std::string(proc_dir) + file);
    int64_t value = 0;
    return in >> value && value > 0 ? value : fallback;
}

// Checks a requested size against its limit; 0 picks the default.
int64_t sized(int64_t asked, int64_t fallback, int64_t limit, const char *what, const char *unit,
              const char *file, const std::string &context) {
    if (asked < 0)
        fail(EINVAL, context + ": " + what + " " + std::to_string(asked) +
                         " is negative; give at least 1, or 0 for the system default");
    if (asked == 0)
        asked = fallback;
    if (asked > limit)
        fail(EINVAL, context + ": " + what + " " + std::to_string(asked) + " is beyond the system limit of " +
                         std::to_string(limit) + " " + unit + ", set in " + proc_dir + file);
    return asked;
}

// Why mq_open could not create a queue, in words the user can act on.
[[noreturn]] void fail_create(int code, const std::string &context, int64_t capacity, int64_t msgsize) {
    if (code == EMFILE) {
        // EMFILE is also a full descriptor table; if a descriptor can still
        // be had, the per-user queue memory limit is what ran out.
        int probe = ::open("/", O_RDONLY | O_CLOEXEC);
        if (probe >= 0) {
            ::close(probe);
            rlimit limit{};
            getrlimit(RLIMIT_MSGQUEUE, &limit);
            std::string bytes = limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur);
            fail(code, context + ": a queue of " + std::to_string(capacity) + " messages of " +
                           std::to_string(msgsize) + " bytes needs more than the " + std::to_string(capacity * msgsize) +
                           " bytes left to this user by RLIMIT_MSGQUEUE (" + bytes +
                           " bytes for all the user's queues; raise it with setrlimit or ulimit -q)");
        }
    }
    if (code == ENOSPC)
        fail(code, context + ": the system-wide number of queues reached its limit, set in " +
                       std::string(proc_dir) + "queues_max");
    fail(code, context);
}

// Repeats a timed kernel call until it succeeds, fails otherwise than by
// timing out, or the monotonic deadline passes: the kernel measures the
// deadline on CLOCK_REALTIME, which may jump.
// An infinite deadline is the caller's to handle, with the blocking call.
template <class Call> auto until(const Deadline &deadline, Call call) {
    for (;;) {
        timespec when = deadline.realtime();
        auto result = call(when);
        if (result >= 0 || errno != ETIMEDOUT || deadline.expired())
            return result;
    }
}

// A deadline long past: a timed call with it never waits, and reports
// ETIMEDOUT where a non-blocking descriptor would say EAGAIN. Unlike
// toggling O_NONBLOCK it does not disturb other threads using the handle.
constexpr timespec past{0, 0};

// The message for the kernel: glibc declares it non-null even for an empty
// message, which the C API accepts as NULL.
const char *bytes(const void *msg) { return msg ? static_cast<const char *>(msg) : ""; }

} // namespace

MqLimits MqLimits::read() {
    return {proc_value("msg_max", 10), proc_value("msgsize_max", 8192), proc_value("msg_default", 10),
            proc_value("msgsize_default", 8192)};
}

uint32_t MessageQueue::priority_max() { return MQ_PRIO_MAX - 1; }

MessageQueue::MessageQueue(MessageQueue &&other) noexcept { *this = std::move(other); }

MessageQueue &MessageQueue::operator=(MessageQueue &&other) noexcept {
    if (this != &other) {
        release();
        name_ = std::move(other.name_);
        mqd_ = std::exchange(other.mqd_, mqd_t(-1));
        capacity_ = other.capacity_;
        msgsize_ = other.msgsize_;
        readable_ = other.readable_;
        writable_ = other.writable_;
        created_ = other.created_;
        unlink_on_close_ = std::exchange(other.unlink_on_close_, UnlinkOnClose());
    }
    return *this;
}

MessageQueue::~MessageQueue() { release(); }

void MessageQueue::release() noexcept {
    if (mqd_ == mqd_t(-1))
        return;
    if (unlink_on_close_) {
        // Remove the name only if it still names our queue: open it again and
        // compare inodes (this works whether or not /dev/mqueue is mounted).
        int access = readable_ && writable_ ? O_RDWR : readable_ ? O_RDONLY : O_WRONLY;
        mqd_t named = mq_open(name_.c_str(), access);
        struct stat mine {}, theirs{};
        bool ours = named == mqd_t(-1)
                        ? errno != ENOENT // gone already, or our mode was changed since
                        : fstat(mqd_, &mine) == 0 && fstat(named, &theirs) == 0 && mine.st_ino == theirs.st_ino &&
                              mine.st_dev == theirs.st_dev;
        if (named != mqd_t(-1))
            mq_close(named);
        if (ours)
            mq_unlink(name_.c_str());
    }
    mq_close(mqd_);
    mqd_ = mqd_t(-1);
    unlink_on_close_ = UnlinkOnClose();
}

void MessageQueue::load_attributes(const std::string &context) {
    mq_attr attr{};
    if (mq_getattr(mqd_, &attr) < 0)
        fail_errno(context);
    capacity_ = attr.mq_maxmsg;
    msgsize_ = attr.mq_msgsize;
}

MessageQueue MessageQueue::create(std::string_view name, int64_t capacity, int64_t msgsize, uint32_t mode,
                                  uint32_t flags) {
    check_flags(flags, unlink_on_close | open_or_create, "mq create");
    check_name(name);
    mode_t perms = creation_mode(mode);
    std::string context = "mq create " + quoted(name);
    MqLimits limits = MqLimits::read();
    capacity = sized(capacity, limits.msg_default, limits.msg_max, "capacity", "messages per queue", "msg_max",
                     context);
    msgsize = sized(msgsize, limits.msgsize_default, limits.msgsize_max, "message size", "bytes per message",
                    "msgsize_max", context);

    MessageQueue q;
    q.name_ = std::string(name);
    mq_attr attr{};
    attr.mq_maxmsg = capacity;
    attr.mq_msgsize = msgsize;
    for (int attempt = 0;; ++attempt) {
        // The umask may narrow the mode for a moment, never widen it; fchmod
        // then sets it exactly (on Linux an mqd_t is a file descriptor).
        q.mqd_ = mq_open(q.name_.c_str(), O_CREAT | O_EXCL | O_RDWR, perms, &attr);
        if (q.mqd_ != mqd_t(-1)) {
            q.readable_ = q.writable_ = q.created_ = true;
            if (fchmod(q.mqd_, perms) < 0) {
                int err = errno;
                mq_unlink(q.name_.c_str());
                fail(err, context);
            }
            q.unlink_on_close_ = UnlinkOnClose(flags & unlink_on_close);
            q.load_attributes(context);
            return q;
        }
        if (errno != EEXIST)
            fail_create(errno, context, capacity, msgsize);
        if (!(flags & open_or_create))
            fail(EEXIST, context);
        // It exists: open it, unless it vanished in between (then try again).
        try {
            MessageQueue existing = open(name, flags & unlink_on_close);
            if (existing.capacity() < capacity || existing.msgsize() < msgsize)
                fail(EINVAL, context + ": exists with room for " + std::to_string(existing.capacity()) +
                                 " messages of " + std::to_string(existing.msgsize()) + " bytes, less than the " +
                                 std::to_string(capacity) + " of " + std::to_string(msgsize) + " asked for");
            return existing;
        } catch (const std::system_error &e) {
            if (e.code().value() != ENOENT || attempt >= 100)
                throw;
        }
    }
}

MessageQueue MessageQueue::open(std::string_view name, uint32_t flags) {
    check_flags(flags, rdonly | wronly | unlink_on_close, "mq open");
    check_name(name);
    std::string context = "mq open " + quoted(name);
    if ((flags & rdonly) && (flags & wronly))
        fail(EINVAL, context + ": IPC_RDONLY and IPC_WRONLY exclude each other; give neither to send and receive");
    MessageQueue q;
    q.name_ = std::string(name);
    q.readable_ = !(flags & wronly);
    q.writable_ = !(flags & rdonly);
    q.mqd_ = mq_open(q.name_.c_str(), q.readable_ && q.writable_ ? O_RDWR : q.readable_ ? O_RDONLY : O_WRONLY);
    if (q.mqd_ == mqd_t(-1))
        fail_errno(context);
    q.unlink_on_close_ = UnlinkOnClose(flags & unlink_on_close);
    q.load_attributes(context);
    return q;
}

void MessageQueue::unlink(std::string_view name) {
    check_name(name);
    std::string text(name);
    if (mq_unlink(text.c_str()) < 0)
        fail_errno("mq unlink " + quoted(name));
}

int64_t MessageQueue::count() const {
    mq_attr attr{};
    if (mq_getattr(mqd_, &attr) < 0)
        fail_errno("mq count " + quoted(name_));
    return attr.mq_curmsgs;
}

void MessageQueue::fail_call(int code, const char *call) const {
    std::string context = std::string(call) + " " + quoted(name_);
    if (code == EAGAIN)
        context += std::string_view(call).find("send") != std::string_view::npos ? ": the queue is full"
                                                                                 : ": the queue is empty";
    fail(code, context);
}

// The messages are built only on failure, so a good call costs what the raw
// system call costs.
void MessageQueue::check_send(const void *msg, size_t len, uint32_t priority) const {
    auto context = [&] { return "mq send " + quoted(name_); };
    if (!writable_)
        fail(EBADF, context() + ": the queue was opened for receiving only (IPC_RDONLY)");
    if (!msg && len)
        fail(EINVAL, context() + ": the message is NULL but its length is " + std::to_string(len));
    if (len > static_cast<size_t>(msgsize_))
        fail(EMSGSIZE, context() + ": a message of " + std::to_string(len) + " bytes is longer than the queue's " +
                           std::to_string(msgsize_) + "-byte maximum");
    if (priority > priority_max())
        fail(EINVAL, context() + ": priority " + std::to_string(priority) + " is beyond the maximum " +
                         std::to_string(priority_max()));
}

void MessageQueue::check_receive(const void *buf, size_t cap) const {
    auto context = [&] { return "mq receive " + quoted(name_); };
    if (!readable_)
        fail(EBADF, context() + ": the queue was opened for sending only (IPC_WRONLY)");
    if (!buf)
        fail(EINVAL, context() + ": the buffer is NULL");
    if (cap < static_cast<size_t>(msgsize_))
        fail(EMSGSIZE, context() + ": a buffer of " + std::to_string(cap) +
                           " bytes is smaller than the queue's message size, " + std::to_string(msgsize_) +
                           " bytes, which the system requires");
}

void MessageQueue::send(const void *msg, size_t len, uint32_t priority) {
    check_send(msg, len, priority);
    if (mq_send(mqd_, bytes(msg), len, priority) < 0)
        fail_call(errno, "mq send");
}

void MessageQueue::trysend(const void *msg, size_t len, uint32_t priority) {
    check_send(msg, len, priority);
    if (mq_timedsend(mqd_, bytes(msg), len, priority, &past) < 0)
        fail_call(errno == ETIMEDOUT ? EAGAIN : errno, "mq trysend");
}

void MessageQueue::timedsend(const void *msg, size_t len, uint32_t priority, double seconds) {
    Deadline deadline(seconds);
    if (deadline.infinite())
        return send(msg, len, priority);
    check_send(msg, len, priority);
    int rc = until(deadline, [&](const timespec &when) {
        return mq_timedsend(mqd_, bytes(msg), len, priority, &when);
    });
    if (rc < 0)
        fail_call(errno, "mq timedsend");
}

size_t MessageQueue::receive(void *buf, size_t cap, uint32_t *priority) {
    check_receive(buf, cap);
    ssize_t len = mq_receive(mqd_, static_cast<char *>(buf), cap, priority);
    if (len < 0)
        fail_call(errno, "mq receive");
    return static_cast<size_t>(len);
}

size_t MessageQueue::tryreceive(void *buf, size_t cap, uint32_t *priority) {
    check_receive(buf, cap);
    ssize_t len = mq_timedreceive(mqd_, static_cast<char *>(buf), cap, priority, &past);
    if (len < 0)
        fail_call(errno == ETIMEDOUT ? EAGAIN : errno, "mq tryreceive");
    return static_cast<size_t>(len);
}

size_t MessageQueue::timedreceive(void *buf, size_t cap, uint32_t *priority, double seconds) {
    Deadline deadline(seconds);
    if (deadline.infinite())
        return receive(buf, cap, priority);
    check_receive(buf, cap);
    ssize_t len = until(deadline, [&](const timespec &when) {
        return mq_timedreceive(mqd_, static_cast<char *>(buf), cap, priority, &when);
    });
    if (len < 0)
        fail_call(errno, "mq timedreceive");
    return static_cast<size_t>(len);
}

} // namespace ipc
