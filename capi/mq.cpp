#include "ipc/mq.h"

#include "../lib/mq.hpp"
#include "common.hpp"

using namespace ipc::capi;

struct ipc_mq : Handle<ipc::MessageQueue, make_tag("mq  ")> {
    using Handle::Handle;
};

namespace {

constexpr const char *kind = "ipc_mq";

} // namespace

extern "C" {

IPC_API int ipc_mq_create(ipc_mq **out, const char *name, int64_t capacity, int64_t msgsize,
                          uint32_t mode, uint32_t flags) {
    return emit(out, "ipc_mq_create", [&] {
        require(name, "ipc_mq_create", "name");
        return ipc::MessageQueue::create(name, capacity, msgsize, mode, flags);
    });
}

IPC_API int ipc_mq_open(ipc_mq **out, const char *name, uint32_t flags) {
    return emit(out, "ipc_mq_open", [&] {
        require(name, "ipc_mq_open", "name");
        return ipc::MessageQueue::open(name, flags);
    });
}

IPC_API int ipc_mq_close(ipc_mq *q) { return close(q, kind); }

IPC_API int ipc_mq_send(ipc_mq *q, const void *msg, size_t len, uint32_t priority) {
    return guard([&] {
        live(q, kind).core.send(msg, len, priority);
        return 0;
    });
}

IPC_API int ipc_mq_trysend(ipc_mq *q, const void *msg, size_t len, uint32_t priority) {
    return guard([&] {
        live(q, kind).core.trysend(msg, len, priority);
        return 0;
    });
}

IPC_API int ipc_mq_timedsend(ipc_mq *q, const void *msg, size_t len, uint32_t priority,
                             double seconds) {
    return guard([&] {
        live(q, kind).core.timedsend(msg, len, priority, seconds);
        return 0;
    });
}

// Message sizes are bounded by msgsize_max (at most 16 MiB on Linux), so a
// length always fits an int.
IPC_API int ipc_mq_receive(ipc_mq *q, void *buf, size_t cap, uint32_t *priority) {
    return guard([&] { return static_cast<int>(live(q, kind).core.receive(buf, cap, priority)); });
}

IPC_API int ipc_mq_tryreceive(ipc_mq *q, void *buf, size_t cap, uint32_t *priority) {
    return guard([&] { return static_cast<int>(live(q, kind).core.tryreceive(buf, cap, priority)); });
}

IPC_API int ipc_mq_timedreceive(ipc_mq *q, void *buf, size_t cap, uint32_t *priority,
                                double seconds) {
    return guard(
        [&] { return static_cast<int>(live(q, kind).core.timedreceive(buf, cap, priority, seconds)); });
}

IPC_API int ipc_mq_unlink(const char *name) {
    return guard([&] {
        require(name, "ipc_mq_unlink", "name");
        ipc::MessageQueue::unlink(name);
        return 0;
    });
}

IPC_API int64_t ipc_mq_capacity(const ipc_mq *q) {
    return guard_value<int64_t>(-EBADF, [&] { return live(q, kind).core.capacity(); });
}

IPC_API int64_t ipc_mq_msgsize(const ipc_mq *q) {
    return guard_value<int64_t>(-EBADF, [&] { return live(q, kind).core.msgsize(); });
}

IPC_API int64_t ipc_mq_count(const ipc_mq *q) {
    try {
        return live(q, kind).core.count();
    } catch (...) {
        return record_current_exception();
    }
}

IPC_API int ipc_mq_fd(const ipc_mq *q) {
    return guard([&] { return live(q, kind).core.fd(); });
}

IPC_API uint32_t ipc_mq_priority_max(void) { return ipc::MessageQueue::priority_max(); }

} // extern "C"
