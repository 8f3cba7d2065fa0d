#include "support.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <pwd.h>
#include <random>
#include <set>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace test {

namespace {
const pid_t main_pid = getpid();
std::atomic<int> counter{0};
std::set<pid_t> children;
} // namespace

std::string unique_name(const std::string &tag) {
    return "/ipc-test-" + std::to_string(main_pid) + "-" + tag + "-" + std::to_string(counter++);
}

int32_t unique_key() {
    static std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
    for (;;) {
        auto key = static_cast<int32_t>(0x1c000000 | (rng() & 0x00ffffff));
        if (shmget(key, 0, 0) < 0)
            return key;
    }
}

pid_t spawn(const std::function<int()> &body) {
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        // Catch2's fatal-signal handlers would report a child's crash as the
        // parent's: a child dies of its signal like any process.
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT})
            std::signal(sig, SIG_DFL);
        int rc = 99;
        try {
            rc = body();
        } catch (...) {
        }
        _exit(rc);
    }
    if (pid > 0)
        children.insert(pid);
    return pid;
}

bool spawned(pid_t pid) { return children.count(pid) > 0; }

int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return status;
}

int in_child(const std::function<int()> &body) { return wait_for(spawn(body)); }

int exit_code(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return -1000;
}

int as_nobody(const std::function<int()> &body) {
    return in_child([&] {
        passwd *pw = getpwnam("nobody");
        uid_t uid = pw ? pw->pw_uid : 65534;
        gid_t gid = pw ? pw->pw_gid : 65534;
        if (setgid(gid) != 0 || setuid(uid) != 0)
            return 98;
        return body();
    });
}

bool eventually(const std::function<bool()> &ready, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!ready()) {
        if (std::chrono::steady_clock::now() > end)
            return ready();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}


int error_of(const std::function<void()> &body) {
    try {
        body();
    } catch (const std::system_error &e) {
        return e.code().value();
    }
    return 0;
}

std::string message_of(const std::function<void()> &body) {
    try {
        body();
    } catch (const std::system_error &e) {
        return e.what();
    }
    return "";
}

} // namespace test

namespace test {

int under_umask(mode_t mask, const std::function<int()> &body) {
    return in_child([&] {
        umask(mask);
        int rc = body();
        return umask(0) == mask ? rc : 20;
    });
}

} // namespace test
