// Shared memory: POSIX named objects and System V segments behind one
// address syntax ("/name", "key:<n>", "shmid:<n>", "private").
#pragma once

#include "common.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ipc {

struct ShmAddress {
    enum class Kind { posix, key, id, private_segment };
    Kind kind = Kind::posix;
    std::string name; // posix
    int32_t key = 0;  // key
    int id = -1;      // id

    // Throws EINVAL naming the rule that broke.
    static ShmAddress parse(std::string_view text);
    bool sysv() const { return kind != Kind::posix; }
};

// Mirrors ipc_shm_info field for field.
struct ShmInfo {
    uint64_t size = 0;
    int64_t atime = 0, dtime = 0, ctime = 0;
    int64_t nattch = -1;
    int32_t kind = 0, id = -1, key = 0, cpid = -1, lpid = -1;
    uint32_t mode = 0, uid = 0, gid = 0, cuid = 0, cgid = 0;
};

class SharedMemory {
  public:
    // Called on the fresh zeroed mapping before any other process can open a
    // POSIX object (System V segments are visible at once: use a marker).
    using Init = std::function<void(void *addr, size_t size)>;

    static SharedMemory create(std::string_view address, size_t size, uint32_t mode,
                               uint32_t flags, const Init &init = {});
    static SharedMemory open(std::string_view address, uint32_t flags);
    static void unlink(std::string_view address);
    static ShmInfo stat(std::string_view address);
    static int32_t key(const char *path, int proj);

    SharedMemory(SharedMemory &&other) noexcept;
    SharedMemory &operator=(SharedMemory &&other) noexcept;
    SharedMemory(const SharedMemory &) = delete;
    SharedMemory &operator=(const SharedMemory &) = delete;
    ~SharedMemory();

    void *addr() const { return addr_; }
    size_t size() const { return size_; }
    bool readonly() const { return readonly_; }
    bool created() const { return created_; }
    // "/name" or "shmid:<n>": what another process passes to open().
    std::string address() const;
    ShmInfo info() const;
    void chmod(uint32_t mode);
    // Makes this handle remove the object when closed, as IPC_UNLINK_ON_CLOSE
    // would have, for callers that decide only after checking the contents
    // (a failed check must not remove somebody else's object).
    void set_unlink_on_close() { unlink_on_close_ = UnlinkOnClose(true); }

  private:
    SharedMemory() = default;
    void release() noexcept;

    ShmAddress where_;
    void *addr_ = nullptr;
    size_t size_ = 0;
    int fd_ = -1; // POSIX only; kept for info() and chmod()
    bool readonly_ = false;
    bool created_ = false;
    UnlinkOnClose unlink_on_close_;
};

} // namespace ipc
