#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <system_error>
#include <sys/xattr.h>
#include <unistd.h>

namespace ipc {

void fail(int code, const std::string &what) {
    throw std::system_error(code, std::generic_category(), what);
}

void fail_errno(const std::string &what) { fail(errno, what); }

std::string quoted(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    return out;
}

void check_name(std::string_view name, size_t max_bytes) {
    auto bad = [&](const std::string &rule) { fail(EINVAL, "name " + quoted(name) + ": " + rule); };
    if (name.empty())
        bad("is empty; a name is \"/\" followed by 1 to " + std::to_string(max_bytes) + " bytes");
    if (name.front() != '/')
        bad("must start with '/'");
    auto rest = name.substr(1);
    if (rest.empty())
        bad("needs at least 1 byte after the '/'");
    if (rest.size() > max_bytes)
        bad("has " + std::to_string(rest.size()) + " bytes after the '/', at most " +
            std::to_string(max_bytes) + " are allowed");
    if (rest.find('/') != std::string_view::npos)
        bad("may hold no '/' after the leading one");
    if (rest.find('\0') != std::string_view::npos)
        bad("may not hold a NUL byte");
    if (rest == "." || rest == "..")
        bad("may not be \".\" or \"..\"");
}

void check_flags(uint32_t flags, uint32_t allowed, const char *what) {
    if (flags & ~allowed) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s: unknown or unsupported flag bits 0x%x", what,
                      flags & ~allowed);
        fail(EINVAL, buf);
    }
}

mode_t creation_mode(uint32_t mode) {
    if (mode > 0777) {
        char buf[80];
        std::snprintf(buf, sizeof buf, "mode 0%o: only permission bits (at most 0777) are allowed",
                      mode);
        fail(EINVAL, buf);
    }
    return static_cast<mode_t>(mode == 0 ? 0600 : (mode | 0600));
}

void record_creator(int fd) noexcept {
    std::string pid = std::to_string(getpid());
    fsetxattr(fd, "user.ipc.creator", pid.data(), pid.size(), 0);
}

timespec monotonic_now() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now;
}

int64_t monotonic_ns() {
    timespec now = monotonic_now();
    return int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

namespace {
constexpr long nano = 1'000'000'000L;

timespec add(timespec t, double seconds) {
    double whole = std::floor(seconds);
    t.tv_sec += static_cast<time_t>(whole);
    t.tv_nsec += static_cast<long>((seconds - whole) * 1e9);
    if (t.tv_nsec >= nano) {
        t.tv_sec += 1;
        t.tv_nsec -= nano;
    }
    return t;
}

double diff(const timespec &a, const timespec &b) {
    return static_cast<double>(a.tv_sec - b.tv_sec) + static_cast<double>(a.tv_nsec - b.tv_nsec) / 1e9;
}
} // namespace

Deadline::Deadline(double seconds) {
    if (std::isnan(seconds) || seconds < 0)
        fail(EINVAL, "timeout " + std::to_string(seconds) + ": must be a number of seconds >= 0");
    // Beyond a century is forever; it also keeps time_t from overflowing.
    if (std::isinf(seconds) || seconds > 3.2e9) {
        infinite_ = true;
        return;
    }
    when_ = add(monotonic_now(), seconds);
}

double Deadline::remaining() const {
    if (infinite_)
        return INFINITY;
    double left = diff(when_, monotonic_now());
    return left > 0 ? left : 0.0;
}

timespec Deadline::realtime() const {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return add(now, remaining());
}

void Spin::set(int64_t nanoseconds, const std::string &what) {
    if (nanoseconds < 0)
        fail(EINVAL, what + ": " + std::to_string(nanoseconds) + " ns; the spin is a duration >= 0");
    ns_.store(nanoseconds, std::memory_order_relaxed);
}

int64_t Spin::within(const Deadline &deadline) const {
    int64_t ns = get();
    if (ns <= 0 || deadline.infinite())
        return ns;
    return std::min<int64_t>(ns, static_cast<int64_t>(deadline.remaining() * 1e9));
}

} // namespace ipc
