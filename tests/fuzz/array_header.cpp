// libFuzzer target: shared array headers. Any bytes either validate into a
// layout that fits the object, or throw EBADMSG (EAGAIN for a zero magic);
// validation never reads outside the bytes given (ASan checks that).
#include "array.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // An exact-size copy, so any read past the end is a heap overflow.
    auto bytes = std::make_unique<uint8_t[]>(size);
    if (size)
        std::memcpy(bytes.get(), data, size);
    try {
        ipc::ArrayLayout layout = ipc::validate_header(bytes.get(), size);
        if (layout.total() > size || layout.offset != ipc::header_size(layout.ndims) || layout.ndims < 1 ||
            layout.length < 1 || layout.bytes != layout.elsize * static_cast<size_t>(layout.length))
            std::abort();
        // What validates must describe itself again the same way.
        ipc::ArrayLayout again = ipc::make_layout(layout.eltype, layout.ndims, layout.dims.data());
        if (again.total() != layout.total())
            std::abort();
    } catch (const std::system_error &e) {
        if (e.code().value() != EBADMSG && e.code().value() != EAGAIN)
            std::abort();
    }
    return 0;
}
