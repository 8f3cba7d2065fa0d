// Helpers shared by the Catch2 suites: unique object names, child processes,
// and a check that a suite leaves no object behind.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>

namespace test {

// "/ipc-test-<pid>-<tag>-<n>": unique per run, recognisable in /dev/shm.
std::string unique_name(const std::string &tag);

// A System V key not used by anything else on the host right now.
int32_t unique_key();

// Runs `body` in a forked child, which exits with body's return value (or
// 99 on an exception); returns the child's wait status.
int in_child(const std::function<int()> &body);

// Starts `body` in a forked child without waiting; returns its pid.
pid_t spawn(const std::function<int()> &body);

// Whether `pid` is a child started by spawn() or in_child() in this process.
bool spawned(pid_t pid);

// Waits for a child; returns its wait status.
int wait_for(pid_t pid);

// Exit code of a wait status, or -(signal number) when killed.
int exit_code(int status);

// Runs `body` as user "nobody" in a child (root bypasses permissions).
int as_nobody(const std::function<int()> &body);

// Polls `ready` for up to `seconds`; returns its last value.
bool eventually(const std::function<bool()> &ready, double seconds = 5.0);

} // namespace test

namespace test {

// The errno value of the std::system_error that `body` throws, 0 if it throws none.
int error_of(const std::function<void()> &body);

// The what() of the std::system_error that `body` throws, "" if it throws none.
std::string message_of(const std::function<void()> &body);

// Runs `body` in a child whose umask is `mask`; returns its wait status. The
// child exits with 20 instead if `body` left the umask changed.
int under_umask(mode_t mask, const std::function<int()> &body);

} // namespace test
