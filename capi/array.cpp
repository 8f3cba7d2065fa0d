#include "ipc/array.h"

#include "../lib/array.hpp"
#include "common.hpp"

#include <cstring>

using namespace ipc::capi;

struct ipc_array : Handle<ipc::SharedArray, make_tag("arr ")> {
    using Handle::Handle;
};

static_assert(IPC_ARRAY_MAGIC == ipc::array_magic);
static_assert(IPC_ARRAY_MAXDIMS == ipc::array_max_dims);
static_assert(IPC_ARRAY_ALIGN == ipc::array_align);
static_assert(IPC_COMPLEXF64 == ipc::array_max_eltype);

namespace {

constexpr const char *kind = "ipc_array";

} // namespace

extern "C" {

IPC_API int ipc_array_create(ipc_array **out, const char *address, int eltype, int ndims,
                             const int64_t *dims, uint32_t mode, uint32_t flags) {
    return emit(out, "ipc_array_create", [&] {
        require(address, "ipc_array_create", "address");
        return ipc::SharedArray::create(address, eltype, ndims, dims, mode, flags);
    });
}

IPC_API int ipc_array_open(ipc_array **out, const char *address, uint32_t flags) {
    return emit(out, "ipc_array_open", [&] {
        require(address, "ipc_array_open", "address");
        return ipc::SharedArray::open(address, flags);
    });
}

IPC_API int ipc_array_wrap(ipc_array **out, void *addr, size_t size, uint32_t flags) {
    return emit(out, "ipc_array_wrap", [&] {
        require(addr, "ipc_array_wrap", "addr");
        return ipc::SharedArray::wrap(addr, size, flags);
    });
}

IPC_API int ipc_array_write_header(void *addr, size_t size, int eltype, int ndims, const int64_t *dims) {
    return guard([&] {
        require(addr, "ipc_array_write_header", "addr");
        ipc::write_header(addr, size, ipc::make_layout(eltype, ndims, dims));
        return 0;
    });
}

IPC_API int ipc_array_close(ipc_array *arr) { return close(arr, kind); }

IPC_API void *ipc_array_data(const ipc_array *arr) {
    return guard_value<void *>(nullptr, [&] { return live(arr, kind).core.data(); });
}

IPC_API int ipc_array_eltype(const ipc_array *arr) {
    return guard([&] { return live(arr, kind).core.layout().eltype; });
}

IPC_API size_t ipc_array_elsize(int eltype) {
    size_t size = ipc::element_size(eltype);
    if (size == 0)
        record(EINVAL, "ipc_array_elsize: element type code " + std::to_string(eltype) + " is unknown");
    return size;
}

IPC_API int ipc_array_ndims(const ipc_array *arr) {
    return guard([&] { return live(arr, kind).core.layout().ndims; });
}

IPC_API int64_t ipc_array_dim(const ipc_array *arr, int k) {
    int64_t dim = 0;
    int rc = guard([&] {
        const auto &layout = live(arr, kind).core.layout();
        if (k < 0 || k >= layout.ndims)
            return record(EINVAL, "ipc_array_dim: dimension " + std::to_string(k) + " is outside 0.." +
                                      std::to_string(layout.ndims - 1));
        dim = layout.dims[k];
        return 0;
    });
    return rc < 0 ? rc : dim;
}

IPC_API int64_t ipc_array_length(const ipc_array *arr) {
    int64_t length = 0;
    int rc = guard([&] {
        length = live(arr, kind).core.layout().length;
        return 0;
    });
    return rc < 0 ? rc : length;
}

IPC_API size_t ipc_array_bytes(const ipc_array *arr) {
    return guard_value<size_t>(0, [&] { return live(arr, kind).core.layout().bytes; });
}

IPC_API size_t ipc_array_header_size(int ndims) {
    if (ndims < 1 || ndims > IPC_ARRAY_MAXDIMS) {
        record(EINVAL, "ipc_array_header_size: rank " + std::to_string(ndims) + " is outside 1.." +
                           std::to_string(IPC_ARRAY_MAXDIMS));
        return 0;
    }
    return ipc::header_size(ndims);
}

IPC_API int ipc_array_address(const ipc_array *arr, char *buf, size_t cap) {
    return guard([&] {
        std::string address = live(arr, kind).core.address();
        return copy_out(address, buf, cap, "ipc_array_address");
    });
}

IPC_API int ipc_array_readonly(const ipc_array *arr) {
    return guard([&] { return live(arr, kind).core.readonly() ? 1 : 0; });
}

} // extern "C"
