// Finding the IPC objects of this host: POSIX shared memory and named
// semaphores in /dev/shm, System V segments in /proc/sysvipc/shm, POSIX
// message queues in /dev/mqueue.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipc_tool {

struct Object {
    std::string kind;    // "shm" (POSIX), "sysv", "sem", "mq"
    std::string address; // what `ipc info` and `ipc rm` take: "/name" or "shmid:<n>"
    uint64_t size = 0;
    uint32_t mode = 0;
    uint32_t uid = 0;
    std::optional<int32_t> key;          // System V
    std::optional<int64_t> attached;     // processes mapping or holding it, when known
    std::optional<int> creator;          // creator pid, when recorded
    std::optional<bool> creator_alive;
    bool stale = false;                  // creator gone and nobody attached
    std::string array;                   // "Float32 512x512" when it holds a shared array
    std::string lock;                    // "mutex", "condition variable", "read/write lock" for a named lock
    int64_t changed = 0;                 // seconds since the epoch
};

struct Listing {
    std::vector<Object> objects;
    std::vector<std::string> notes; // what could not be looked at, and why
};

Listing list_objects();

// The objects of a kind ("" for any) whose address is `address`.
std::vector<Object> find_objects(const std::string &address, const std::string &kind);

// Removes one object; returns 0 or a negated errno, with a message in `why`.
int remove_object(const Object &object, std::string &why);

std::string user_name(uint32_t uid);
std::string mode_string(uint32_t mode);

} // namespace ipc_tool
