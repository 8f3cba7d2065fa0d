// The signal core's conversions, without the C layer.
#include "../catch.hpp"

#include "sig.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

namespace {

int code_of(void (*body)()) {
    try {
        body();
    } catch (const std::system_error &e) {
        return e.code().value();
    }
    return 0;
}

siginfo_t raw(int signo, int code) {
    siginfo_t si;
    std::memset(&si, 0xab, sizeof si); // garbage in the members that do not apply
    si.si_signo = signo;
    si.si_code = code;
    si.si_errno = 0;
    return si;
}

} // namespace

TEST_CASE("action flags map both ways and unknown bits are refused", "[core][sig]") {
    int native = ipc::sig::native_flags(63);
    CHECK((native & SA_RESTART));
    CHECK((native & SA_RESETHAND));
    CHECK(ipc::sig::library_flags(native) == 63u);
    CHECK(ipc::sig::library_flags(SA_SIGINFO) == 0u); // internal, not reported
    CHECK(code_of([] { ipc::sig::native_flags(64); }) == EINVAL);
}

TEST_CASE("sets convert to and from sigset_t", "[core][sig]") {
    ipc::sig::Set all;
    all.fill();
    sigset_t native = all.native();
    CHECK(sigismember(&native, SIGKILL) == 1);
    CHECK(sigismember(&native, SIGRTMAX) == 1);
    CHECK(ipc::sig::Set::from(native).bits() == all.bits());
    CHECK(__builtin_popcountll(all.bits()) == 31 + SIGRTMAX - SIGRTMIN + 1);
    CHECK(all.next(SIGRTMAX) == 0);
    CHECK(all.next(31) == SIGRTMIN); // 32 and 33 are never members
}

TEST_CASE("siginfo members are read only where si_code says they are set", "[core][sig]") {
    siginfo_t si = raw(SIGSEGV, SEGV_MAPERR);
    si.si_addr = reinterpret_cast<void *>(0x1000);
    ipc::sig::Info info = ipc::sig::to_info(si);
    CHECK(info.addr == 0x1000u);
    CHECK(info.pid == 0);
    CHECK(info.value == 0);

    si = raw(SIGUSR1, SI_KERNEL);
    info = ipc::sig::to_info(si);
    CHECK(info.pid == 0);
    CHECK(info.uid == 0u);
    CHECK(info.addr == 0u);

    si = raw(SIGRTMIN, SI_QUEUE);
    si.si_pid = 42;
    si.si_uid = 7;
    si.si_value.sival_ptr = reinterpret_cast<void *>(intptr_t{-5});
    info = ipc::sig::to_info(si);
    CHECK(info.pid == 42);
    CHECK(info.uid == 7u);
    CHECK(info.value == -5);
    CHECK(info.status == 0);
}

TEST_CASE("real-time names split the range in halves", "[core][sig]") {
    CHECK(ipc::sig::name(SIGRTMIN) == "SIGRTMIN");
    CHECK(ipc::sig::name(SIGRTMAX) == "SIGRTMAX");
    int half = (SIGRTMAX - SIGRTMIN) / 2;
    CHECK(ipc::sig::name(SIGRTMIN + half) == "SIGRTMIN+" + std::to_string(half));
    CHECK(ipc::sig::name(SIGRTMIN + half + 1) == "SIGRTMAX-" + std::to_string(SIGRTMAX - SIGRTMIN - half - 1));
    CHECK(code_of([] { ipc::sig::name(0); }) == EINVAL);
    CHECK(code_of([] { ipc::sig::number("SIGRTMIN+x"); }) == EINVAL);
}
