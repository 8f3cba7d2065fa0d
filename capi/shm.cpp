#include "ipc/shm.h"

#include "../lib/shm.hpp"
#include "common.hpp"

#include <cstddef>
#include <cstring>

using namespace ipc::capi;

struct ipc_shm : Handle<ipc::SharedMemory, make_tag("shm ")> {
    using Handle::Handle;
};

static_assert(sizeof(ipc_shm_info) == 80);
static_assert(offsetof(ipc_shm_info, nattch) == 32);
static_assert(offsetof(ipc_shm_info, kind) == 40);
static_assert(offsetof(ipc_shm_info, mode) == 60);
static_assert(offsetof(ipc_shm_info, cgid) == 76);

namespace {

constexpr const char *kind = "ipc_shm";

void copy(const ipc::ShmInfo &from, ipc_shm_info *to) {
    *to = ipc_shm_info{from.size, from.atime, from.dtime, from.ctime, from.nattch, from.kind,
                       from.id,   from.key,   from.cpid,  from.lpid,  from.mode,   from.uid,
                       from.gid,  from.cuid,  from.cgid};
}

} // namespace

extern "C" {

IPC_API int ipc_shm_create(ipc_shm **out, const char *address, size_t size, uint32_t mode,
                           uint32_t flags) {
    return emit(out, "ipc_shm_create", [&] {
        require(address, "ipc_shm_create", "address");
        return ipc::SharedMemory::create(address, size, mode, flags);
    });
}

IPC_API int ipc_shm_open(ipc_shm **out, const char *address, uint32_t flags) {
    return emit(out, "ipc_shm_open", [&] {
        require(address, "ipc_shm_open", "address");
        return ipc::SharedMemory::open(address, flags);
    });
}

IPC_API int ipc_shm_close(ipc_shm *shm) { return close(shm, kind); }

IPC_API void *ipc_shm_addr(const ipc_shm *shm) {
    return guard_value<void *>(nullptr, [&] { return live(shm, kind).core.addr(); });
}

IPC_API size_t ipc_shm_size(const ipc_shm *shm) {
    return guard_value<size_t>(0, [&] { return live(shm, kind).core.size(); });
}

IPC_API int ipc_shm_address(const ipc_shm *shm, char *buf, size_t cap) {
    return guard([&] {
        std::string address = live(shm, kind).core.address();
        return copy_out(address, buf, cap, "ipc_shm_address");
    });
}

IPC_API int ipc_shm_readonly(const ipc_shm *shm) {
    return guard([&] { return live(shm, kind).core.readonly() ? 1 : 0; });
}

IPC_API int ipc_shm_fstat(const ipc_shm *shm, ipc_shm_info *info) {
    return guard([&] {
        const auto &h = live(shm, kind);
        require(info, "ipc_shm_fstat", "info");
        copy(h.core.info(), info);
        return 0;
    });
}

IPC_API int ipc_shm_stat(const char *address, ipc_shm_info *info) {
    return guard([&] {
        require(address, "ipc_shm_stat", "address");
        require(info, "ipc_shm_stat", "info");
        copy(ipc::SharedMemory::stat(address), info);
        return 0;
    });
}

IPC_API int ipc_shm_chmod(ipc_shm *shm, uint32_t mode) {
    return guard([&] {
        live(shm, kind).core.chmod(mode);
        return 0;
    });
}

IPC_API int ipc_shm_unlink(const char *address) {
    return guard([&] {
        require(address, "ipc_shm_unlink", "address");
        ipc::SharedMemory::unlink(address);
        return 0;
    });
}

IPC_API int ipc_shm_key(const char *path, int proj, int32_t *key) {
    return guard([&] {
        require(path, "ipc_shm_key", "path");
        require(key, "ipc_shm_key", "key");
        *key = ipc::SharedMemory::key(path, proj);
        return 0;
    });
}

IPC_API size_t ipc_shm_info_size(void) { return sizeof(ipc_shm_info); }

} // extern "C"
