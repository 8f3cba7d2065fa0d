// POSIX message queues: a handle around an mqd_t (a file descriptor on
// Linux) that knows its message size, so bad sizes fail before the kernel
// call with a clear message.
#pragma once

#include "common.hpp"

#include <cstddef>
#include <cstdint>
#include <mqueue.h>
#include <string>
#include <string_view>

namespace ipc {

// The system's limits and defaults, from /proc/sys/fs/mqueue.
struct MqLimits {
    int64_t msg_max, msgsize_max, msg_default, msgsize_default;
    static MqLimits read();
};

class MessageQueue {
  public:
    // capacity or msgsize 0 means the system default; beyond the limits of
    // /proc/sys/fs/mqueue is EINVAL naming the limit.
    static MessageQueue create(std::string_view name, int64_t capacity, int64_t msgsize,
                               uint32_t mode, uint32_t flags);
    static MessageQueue open(std::string_view name, uint32_t flags);
    static void unlink(std::string_view name);
    static uint32_t priority_max();

    MessageQueue(MessageQueue &&other) noexcept;
    MessageQueue &operator=(MessageQueue &&other) noexcept;
    MessageQueue(const MessageQueue &) = delete;
    MessageQueue &operator=(const MessageQueue &) = delete;
    ~MessageQueue();

    // Sends: EMSGSIZE, EINVAL (priority, NULL message), EBADF (read-only
    // handle), EINTR; trysend EAGAIN when full; timedsend ETIMEDOUT.
    void send(const void *msg, size_t len, uint32_t priority);
    void trysend(const void *msg, size_t len, uint32_t priority);
    void timedsend(const void *msg, size_t len, uint32_t priority, double seconds);

    // Receives return the message length; `priority` may be null.
    size_t receive(void *buf, size_t cap, uint32_t *priority);
    size_t tryreceive(void *buf, size_t cap, uint32_t *priority);
    size_t timedreceive(void *buf, size_t cap, uint32_t *priority, double seconds);

    int fd() const { return static_cast<int>(mqd_); }
    int64_t capacity() const { return capacity_; }
    int64_t msgsize() const { return msgsize_; }
    int64_t count() const;
    const std::string &name() const { return name_; }
    bool created() const { return created_; }

  private:
    MessageQueue() = default;
    void release() noexcept;
    void load_attributes(const std::string &context);
    void check_send(const void *msg, size_t len, uint32_t priority) const;
    void check_receive(const void *buf, size_t cap) const;
    [[noreturn]] void fail_call(int code, const char *call) const;

    std::string name_;
    mqd_t mqd_ = -1;
    int64_t capacity_ = 0, msgsize_ = 0; // fixed for the queue's lifetime
    bool readable_ = false, writable_ = false;
    bool created_ = false;
    UnlinkOnClose unlink_on_close_;
};

} // namespace ipc
