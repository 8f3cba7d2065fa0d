// Runs a Catch2 suite, then fails it if it left an object behind: a POSIX
// name of this run in /dev/shm or /dev/mqueue (when mounted), or a System V
// segment that this process or one of its children created.
#define CATCH_CONFIG_RUNNER
#include "catch.hpp"
#include "support.hpp"

#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <sys/shm.h>
#include <unistd.h>

namespace {

std::set<int> sysv_segments() {
    std::set<int> ids;
    std::ifstream table("/proc/sysvipc/shm");
    std::string line;
    std::getline(table, line); // header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        long key = 0;
        int id = -1;
        fields >> key >> id;
        ids.insert(id);
    }
    return ids;
}

int leftovers(const std::set<int> &before) {
    int found = 0;
    std::string prefix = "ipc-test-" + std::to_string(getpid()) + "-";
    // Message queues are listed only where the mqueue file system is mounted;
    // removing the file removes the queue.
    for (std::string where : {"/dev/shm/", "/dev/mqueue/"}) {
        DIR *dir = opendir(where.c_str());
        if (!dir)
            continue;
        while (dirent *entry = readdir(dir)) {
            std::string name = entry->d_name;
            if (name.find(prefix) != std::string::npos) { // also "sem.ipc-test-..."
                std::fprintf(stderr, "left behind: %s%s\n", where.c_str(), name.c_str());
                std::remove((where + name).c_str());
                ++found;
            }
        }
        closedir(dir);
    }
    for (int id : sysv_segments()) {
        shmid_ds ds{};
        if (before.count(id) || shmctl(id, IPC_STAT, &ds) != 0)
            continue;
        bool ours = ds.shm_cpid == getpid() || test::spawned(ds.shm_cpid);
        if (ours && !(ds.shm_perm.mode & SHM_DEST)) {
            std::fprintf(stderr, "left behind: System V segment shmid:%d\n", id);
            shmctl(id, IPC_RMID, nullptr);
            ++found;
        }
    }
    return found;
}

} // namespace

int main(int argc, char **argv) {
    std::set<int> before = sysv_segments();
    int failed = Catch::Session().run(argc, argv);
    int left = leftovers(before);
    if (left)
        std::fprintf(stderr, "%d object(s) left behind by the tests\n", left);
    return failed || left ? 1 : 0;
}
