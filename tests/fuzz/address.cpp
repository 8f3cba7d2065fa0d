// libFuzzer target: address strings. Any input either parses into a form
// that prints back consistently, or throws EINVAL; nothing else may happen.
#include "shm.hpp"

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <system_error>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        auto where = ipc::ShmAddress::parse(text);
        if (where.kind == ipc::ShmAddress::Kind::posix && where.name != text)
            std::abort();
    } catch (const std::system_error &e) {
        if (e.code().value() != EINVAL)
            std::abort();
    }
    return 0;
}
