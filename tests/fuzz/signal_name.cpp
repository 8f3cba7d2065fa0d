// libFuzzer target: signal names. Any text gives a valid signal number or
// -EINVAL; a number's name parses back to the same number, through the C API.
#include "ipc/sig.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string text(reinterpret_cast<const char *>(data), size); // NUL-terminated, may hold NULs
    int signo = ipc_sig_number(text.c_str());
    if (signo == -EINVAL)
        return 0;
    if (signo < 1 || signo > ipc_sig_rtmax() || (signo > 31 && signo < ipc_sig_rtmin()))
        std::abort();
    char name[IPC_SIG_NAME_MAX];
    int len = ipc_sig_name(signo, name, sizeof name);
    if (len <= 0 || static_cast<size_t>(len) != std::strlen(name) || ipc_sig_number(name) != signo)
        std::abort();
    // Too little room is an error, never a cut name.
    char small[4];
    if (len >= 4 && ipc_sig_name(signo, small, sizeof small) != -ERANGE)
        std::abort();
    return 0;
}
