// Cross-process round trip of a queued real-time signal with its value:
// send, wait in the peer, send back. libipc (ipc_sig_queue + ipc_sig_wait)
// against raw sigqueue + sigwaitinfo, interleaved in the same run; reports
// the median ratio, which should be at most about 1.05. Also the same calls
// within one process, which shows their own cost. Usage: bench_sig [rounds]
// [repeats]; pinning to one CPU (taskset -c 0) steadies a busy machine.
#include <ipc.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

int signo;
sigset_t native;
ipc_sigset *set;

const timespec zero{};

struct Raw {
    static void send(pid_t pid, int64_t value) {
        sigval v{};
        v.sival_ptr = reinterpret_cast<void *>(static_cast<intptr_t>(value));
        if (sigqueue(pid, signo, v) != 0)
            std::abort();
    }
    static int64_t receive() {
        siginfo_t si;
        while (sigwaitinfo(&native, &si) < 0) {
        }
        return static_cast<int64_t>(reinterpret_cast<intptr_t>(si.si_value.sival_ptr));
    }
    static int64_t take() {
        siginfo_t si;
        if (sigtimedwait(&native, &si, &zero) < 0)
            std::abort();
        return static_cast<int64_t>(reinterpret_cast<intptr_t>(si.si_value.sival_ptr));
    }
};

struct Lib {
    static void send(pid_t pid, int64_t value) {
        if (ipc_sig_queue(pid, signo, value) != 0)
            std::abort();
    }
    static int64_t receive() {
        ipc_siginfo info;
        while (ipc_sig_wait(set, &info) < 0) {
        }
        return info.value;
    }
    static int64_t take() {
        ipc_siginfo info;
        if (ipc_sig_trywait(set, &info) < 0)
            std::abort();
        return info.value;
    }
};

// Nanoseconds per send to self and take without waiting: the calls' own
// cost, no scheduling in it.
template <class Api> double run_self(int rounds) {
    const pid_t self = getpid();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) {
        Api::send(self, i);
        if (Api::take() != i)
            std::abort();
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / rounds;
}

// Nanoseconds per round trip over `rounds`.
template <class Api> double run(int rounds) {
    const pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < rounds; ++i)
            Api::send(parent, Api::receive() + 1);
        _exit(0);
    }
    auto start = std::chrono::steady_clock::now();
    int64_t value = 0;
    for (int i = 0; i < rounds; ++i) {
        Api::send(child, value);
        int64_t back = Api::receive();
        if (back != value + 1)
            std::abort();
        value = back;
    }
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    waitpid(child, nullptr, 0);
    return ns / rounds;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
    int rounds = argc > 1 ? std::atoi(argv[1]) : 5000;
    int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
    signo = ipc_sig_rtmin() + 5;
    sigemptyset(&native);
    sigaddset(&native, signo);
    ipc_sigset_new(&set);
    ipc_sigset_add(set, signo);
    ipc_sig_mask(IPC_SIG_BLOCK, set, nullptr); // children inherit the mask

    run<Raw>(rounds / 10 + 1); // warm up
    std::vector<double> raw, lib, ratio;
    for (int r = 0; r < repeats; ++r) {
        raw.push_back(run<Raw>(rounds));
        lib.push_back(run<Lib>(rounds));
        ratio.push_back(lib.back() / raw.back());
    }
    std::vector<double> raw_self, lib_self, ratio_self;
    for (int r = 0; r < repeats; ++r) {
        raw_self.push_back(run_self<Raw>(rounds));
        lib_self.push_back(run_self<Lib>(rounds));
        ratio_self.push_back(lib_self.back() / raw_self.back());
    }
    std::printf("send to self and take (%d x %d): raw %.0f ns, libipc %.0f ns, median ratio %.3fx\n", rounds,
                repeats, median(raw_self), median(lib_self), median(ratio_self));
    std::printf("signal round trip (sigqueue + wait, %d rounds x %d): raw %.2f us, libipc %.2f us, "
                "median ratio %.3fx\n",
                rounds, repeats, median(raw) / 1e3, median(lib) / 1e3, median(ratio));
    ipc_sigset_free(set);
    return 0;
}
