// The C layer's two rules: no exception crosses the boundary (guard), and no
// handle is used without its live tag being checked (live).
#pragma once

#include "ipc/common.h"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

namespace ipc::capi {

// Records `message` as this thread's last error and returns -code.
int record(int code, const std::string &message) noexcept;

// Maps the exception being handled to a negative code, recording its message.
int record_current_exception() noexcept;

// Runs `body` (which returns an int code), turning any exception into a code.
template <class Body> int guard(Body &&body) noexcept {
    try {
        return body();
    } catch (...) {
        return record_current_exception();
    }
}

// For getters that return a value: `fallback` on any failure.
template <class T, class Body> T guard_value(T fallback, Body &&body) noexcept {
    try {
        return body();
    } catch (...) {
        record_current_exception();
        return fallback;
    }
}

// Throws EINVAL when a required pointer argument is NULL.
void require(const void *pointer, const char *function, const char *argument);

// Copies `text` with its NUL into the caller's buffer: its length, or
// -EINVAL (NULL buf) / -ERANGE (cap too small; nothing written).
int copy_out(const std::string &text, char *buf, size_t cap, const char *function);

// Four characters as a tag, so a memory dump shows what a handle was.
constexpr uint32_t make_tag(const char (&s)[5]) {
    return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
           uint32_t(uint8_t(s[3])) << 24;
}
inline constexpr uint32_t dead_tag = make_tag("dead");

// Handle memory is never given back to the allocator: a closed handle's
// block keeps a dead tag and waits in a quarantine before reuse, so calling
// with a closed handle reads memory we own and reliably gives EBADF.
void *pool_allocate(size_t size);
void pool_release(void *block, size_t size) noexcept;

// Base of every C handle: a tag first, so any handle pointer can be checked
// for its kind, then the core object.
template <class Core, uint32_t Tag> struct Handle {
    static constexpr uint32_t live_tag = Tag;
    std::atomic<uint32_t> tag{Tag};
    Core core;

    template <class... Args> explicit Handle(Args &&...args) : core(std::forward<Args>(args)...) {}

    static void *operator new(size_t size) { return pool_allocate(size); }
    static void operator delete(void *block, size_t size) noexcept { pool_release(block, size); }
};

[[noreturn]] void bad_handle(const void *handle, const char *kind);

// The handle, if it is a live one of kind H; throws EBADF otherwise.
template <class H> H &live(H *handle, const char *kind) {
    if (!handle || handle->tag.load(std::memory_order_relaxed) != H::live_tag)
        bad_handle(handle, kind);
    return *handle;
}
template <class H> const H &live(const H *handle, const char *kind) {
    return live(const_cast<H *>(handle), kind);
}

// Builds a handle for the caller: *out is the new handle, or NULL on failure.
template <class H, class Make> int emit(H **out, const char *function, Make &&make) noexcept {
    if (!out)
        return record(EINVAL, std::string(function) + ": the out-parameter is NULL");
    *out = nullptr;
    return guard([&] {
        *out = new H(make());
        return 0;
    });
}

// The matching close: NULL is a no-op, anything else must be live.
template <class H> int close(H *handle, const char *kind) noexcept {
    if (!handle)
        return 0;
    return guard([&] {
        delete &live(handle, kind);
        return 0;
    });
}

} // namespace ipc::capi
