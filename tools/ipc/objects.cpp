#include "objects.hpp"

#include <ipc.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <mqueue.h>
#include <pwd.h>
#include <semaphore.h>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace ipc_tool {

namespace {

constexpr const char *shm_dir = "/dev/shm";
constexpr const char *mq_dir = "/dev/mqueue";
constexpr long mqueue_magic = 0x19800202;

bool alive(int pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

std::vector<int> processes() {
    std::vector<int> pids;
    if (DIR *proc = opendir("/proc")) {
        while (dirent *entry = readdir(proc)) {
            char *end = nullptr;
            long pid = std::strtol(entry->d_name, &end, 10);
            if (*end == '\0' && pid > 0)
                pids.push_back(static_cast<int>(pid));
        }
        closedir(proc);
    }
    return pids;
}

// A file's identity: a mapping or descriptor made before the file got its
// name (libipc links finished objects into place) shows no useful path.
using FileId = std::pair<dev_t, ino_t>;

// Which processes map or hold open each file, from /proc/<pid>/maps and /fd.
std::map<FileId, std::set<int>> users() {
    std::map<FileId, std::set<int>> by_file;
    for (int pid : processes()) {
        std::string base = "/proc/" + std::to_string(pid);
        std::ifstream maps(base + "/maps");
        std::string line;
        while (std::getline(maps, line)) {
            std::istringstream fields(line); // address perms offset major:minor inode path
            std::string address, perms, offset, device;
            unsigned long long inode = 0;
            unsigned major = 0, minor = 0;
            if (fields >> address >> perms >> offset >> device >> inode && inode != 0 &&
                std::sscanf(device.c_str(), "%x:%x", &major, &minor) == 2)
                by_file[{makedev(major, minor), static_cast<ino_t>(inode)}].insert(pid);
        }
        if (DIR *fds = opendir((base + "/fd").c_str())) {
            while (dirent *entry = readdir(fds)) {
                struct stat st {};
                if (entry->d_name[0] != '.' && stat((base + "/fd/" + entry->d_name).c_str(), &st) == 0)
                    by_file[{st.st_dev, st.st_ino}].insert(pid);
            }
            closedir(fds);
        }
    }
    return by_file;
}

int64_t count_users(const std::map<FileId, std::set<int>> &in_use, const struct stat &st) {
    auto found = in_use.find({st.st_dev, st.st_ino});
    return found == in_use.end() ? 0 : static_cast<int64_t>(found->second.size());
}

std::optional<int> recorded_creator(const std::string &path) {
    char value[32] = {};
    ssize_t n = getxattr(path.c_str(), "user.ipc.creator", value, sizeof value - 1);
    if (n <= 0)
        return std::nullopt;
    return std::atoi(value);
}

const char *type_name(int eltype) {
    static const char *names[] = {"?",      "Int8",    "UInt8",   "Int16",   "UInt16",     "Int32",     "UInt32",
                                  "Int64",  "UInt64",  "Float32", "Float64", "ComplexF32", "ComplexF64"};
    return eltype >= 1 && eltype <= 12 ? names[eltype] : names[0];
}

// "Float32 512x512" when the object holds a valid shared array header.
std::string array_of(const std::string &address) {
    ipc_array *array = nullptr;
    if (ipc_array_open(&array, address.c_str(), IPC_RDONLY) < 0)
        return "";
    std::string text = std::string(type_name(ipc_array_eltype(array))) + " ";
    for (int k = 0; k < ipc_array_ndims(array); ++k)
        text += (k ? "x" : "") + std::to_string(ipc_array_dim(array, k));
    ipc_array_close(array);
    return text;
}

template <class H> bool opens_as(int (*open)(H **, const char *), int (*close)(H *), const std::string &address) {
    H *handle = nullptr;
    if (open(&handle, address.c_str()) != 0)
        return false;
    close(handle);
    return true;
}

// "mutex", "condition variable" or "read/write lock" when a POSIX object is a
// named lock (its header says which; opening checks it).
std::string lock_of(const std::string &address) {
    if (!address.starts_with("/"))
        return "";
    if (opens_as(ipc_mutex_open, ipc_mutex_close, address))
        return "mutex";
    if (opens_as(ipc_cond_open, ipc_cond_close, address))
        return "condition variable";
    if (opens_as(ipc_rwlock_open, ipc_rwlock_close, address))
        return "read/write lock";
    return "";
}

void judge(Object &object) {
    if (object.creator)
        object.creator_alive = alive(*object.creator);
    object.stale = object.creator_alive == false && object.attached.value_or(1) == 0;
}

void posix_objects(Listing &out, const std::map<FileId, std::set<int>> &in_use) {
    DIR *dir = opendir(shm_dir);
    if (!dir) {
        out.notes.push_back(std::string("POSIX shared memory: cannot read ") + shm_dir + ": " + std::strerror(errno));
        return;
    }
    while (dirent *entry = readdir(dir)) {
        std::string name = entry->d_name;
        std::string path = std::string(shm_dir) + "/" + name;
        struct stat st {};
        if (name == "." || name == ".." || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        Object object;
        bool semaphore = name.starts_with("sem.");
        object.kind = semaphore ? "sem" : "shm";
        object.address = "/" + (semaphore ? name.substr(4) : name);
        object.size = static_cast<uint64_t>(st.st_size);
        object.mode = st.st_mode & 0777;
        object.uid = st.st_uid;
        object.changed = st.st_ctime;
        object.attached = count_users(in_use, st);
        object.creator = recorded_creator(path);
        judge(object);
        out.objects.push_back(object);
    }
    closedir(dir);
}

void sysv_objects(Listing &out) {
    std::ifstream table("/proc/sysvipc/shm");
    if (!table) {
        out.notes.push_back("System V shared memory: cannot read /proc/sysvipc/shm");
        return;
    }
    std::string line;
    std::getline(table, line); // column names
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string perms; // octal
        long long key, id, size, cpid, lpid, nattch, uid, gid, cuid, cgid, atime, dtime, ctime;
        if (!(fields >> key >> id >> perms >> size >> cpid >> lpid >> nattch >> uid >> gid >> cuid >> cgid >>
              atime >> dtime >> ctime))
            continue;
        Object object;
        object.kind = "sysv";
        object.address = "shmid:" + std::to_string(id);
        object.key = static_cast<int32_t>(key);
        object.size = static_cast<uint64_t>(size);
        object.mode = static_cast<uint32_t>(std::stoul(perms, nullptr, 8)) & 0777;
        object.uid = static_cast<uint32_t>(uid);
        object.attached = nattch;
        object.creator = static_cast<int>(cpid);
        object.changed = ctime;
        judge(object);
        out.objects.push_back(object);
    }
}

void queue_objects(Listing &out, const std::map<FileId, std::set<int>> &in_use) {
    struct statfs fs {};
    if (statfs(mq_dir, &fs) != 0 || fs.f_type != mqueue_magic) {
        out.notes.push_back(std::string("POSIX message queues: ") + mq_dir +
                            " is not mounted, so they cannot be listed (as root: mount -t mqueue none " + mq_dir + ")");
        return;
    }
    DIR *dir = opendir(mq_dir);
    if (!dir)
        return;
    while (dirent *entry = readdir(dir)) {
        std::string name = entry->d_name;
        std::string path = std::string(mq_dir) + "/" + name;
        struct stat st {};
        if (name == "." || name == ".." || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        Object object;
        object.kind = "mq";
        object.address = "/" + name;
        object.mode = st.st_mode & 0777;
        object.uid = st.st_uid;
        object.changed = st.st_ctime;
        std::ifstream status(path); // "QSIZE:129 NOTIFY:0 SIGNO:0 NOTIFY_PID:0"
        std::string word;
        if (status >> word && word.starts_with("QSIZE:"))
            object.size = std::stoull(word.substr(6));
        object.attached = count_users(in_use, st);
        judge(object);
        out.objects.push_back(object);
    }
    closedir(dir);
}

} // namespace

Listing list_objects() {
    Listing out;
    auto in_use = users();
    posix_objects(out, in_use);
    sysv_objects(out);
    queue_objects(out, in_use);
    for (Object &object : out.objects)
        if (object.kind == "shm" || object.kind == "sysv") {
            object.array = array_of(object.address);
            if (object.array.empty())
                object.lock = lock_of(object.address);
        }
    return out;
}

std::vector<Object> find_objects(const std::string &address, const std::string &kind) {
    std::vector<Object> found;
    bool by_key = address.starts_with("key:");
    ipc_shm_info info{};
    if (by_key && ipc_shm_stat(address.c_str(), &info) < 0)
        return found;
    for (const Object &object : list_objects().objects) {
        bool same = by_key ? object.kind == "sysv" && object.key == info.key : object.address == address;
        if (same && (kind.empty() || object.kind == kind))
            found.push_back(object);
    }
    return found;
}

int remove_object(const Object &object, std::string &why) {
    if (object.attached.value_or(0) > 0) {
        why = object.address + " (" + object.kind + ") is still attached by " + std::to_string(*object.attached) +
              " process(es); not removed";
        return -EBUSY;
    }
    int rc = 0;
    if (object.kind == "shm" || object.kind == "sysv") {
        rc = ipc_shm_unlink(object.address.c_str());
        if (rc < 0)
            why = ipc_last_error();
        return rc;
    }
    rc = object.kind == "sem" ? sem_unlink(object.address.c_str()) : mq_unlink(object.address.c_str());
    if (rc < 0) {
        rc = -errno;
        why = object.kind + " unlink \"" + object.address + "\": " + std::strerror(errno);
    }
    return rc;
}

std::string user_name(uint32_t uid) {
    passwd *pw = getpwuid(uid);
    return pw ? pw->pw_name : std::to_string(uid);
}

std::string mode_string(uint32_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0%03o", mode & 0777);
    return buf;
}

} // namespace ipc_tool
