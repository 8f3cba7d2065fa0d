# Shared arrays (include/ipc/array.h): IPC.jl's WrappedArray and ShmArray, with
# IPC.jl's header ("WA-1"), so Julia, C and Python programs share arrays.

# The element types of the header, indexed by their type code (IPC_INT8 = 1 ..
# IPC_COMPLEXF64 = 12).
const _ELTYPES = (Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64,
                  Float32, Float64, ComplexF32, ComplexF64)
@assert _ELTYPES[IPC_INT8] === Int8 && _ELTYPES[IPC_COMPLEXF64] === ComplexF64

function _eltype_code(::Type{T}) where {T}
    code = findfirst(S -> S === T, _ELTYPES)
    code === nothing && throw(ArgumentError("unsupported data type ($T): shared arrays hold " *
                                            join(_ELTYPES, ", ")))
    return Cint(code)
end

# The library and this package must agree on every element size.
push!(_layout_checks, function ()
    for (code, T) in enumerate(_ELTYPES)
        size = ccall((:ipc_array_elsize, library()), Csize_t, (Cint,), code)
        size == sizeof(T) || error("IPC: element type $code is $size bytes in $(library()), $T is $(sizeof(T))")
    end
end)

"""
    IPC.ArrayHandle

The memory of a shared array opened or created by [`WrappedArray`](@ref): an
`ipc_array` handle, which maps the shared memory object. The array keeps it
alive; `close(A)` unmaps it at once, the finalizer otherwise.
`Base.unsafe_convert(Ptr{Cvoid}, h)` is the `ipc_array *` for your own `ccall`s.
"""
mutable struct ArrayHandle
    handle::Ptr{Cvoid}          # the ipc_array handle; C_NULL once closed
    ptr::Ptr{Cvoid}             # the first element
    len::Int                    # bytes of the elements
    readonly::Bool              # mapped read-only
    id::Union{String,ShmId}     # the name, or the System V segment identifier
    function ArrayHandle(handle::Ptr{Cvoid}, ptr::Ptr{Cvoid}, len::Integer, readonly::Bool,
                         id::Union{String,ShmId})
        return finalizer(_finalize, new(handle, ptr, len, readonly, id))
    end
end

# Finalizers must not throw.
function _finalize(mem::ArrayHandle)
    handle = mem.handle
    mem.handle = C_NULL
    handle == C_NULL || ccall((:ipc_array_close, library()), Cint, (Ptr{Cvoid},), handle)
    return nothing
end

"""
    WrappedArray(mem, T = UInt8; offset = 0)
    WrappedArray(mem, T, dims...; offset = 0)
    WrappedArray(mem, dec)
    WrappedArray(id, T, dims...; perms = 0o600, volatile = true)
    WrappedArray(id; readonly = false, volatile = false)

A Julia array (a `DenseArray{T,N}`) whose elements are the memory of another
object, as in IPC.jl.

With a memory object `mem` (anything with `pointer(mem)` and `sizeof(mem)`,
such as a [`SharedMemory`](@ref)), the elements of type `T` start `offset`
bytes after `pointer(mem)`; without `dims` the array is the longest vector that
fits. `WrappedArray(mem, dec)` calls `dec(mem) -> (T, dims, offset)`:
`WrappedArray(mem, m -> read(m, WrappedArrayHeader))` finds an array whose
header was written into `mem` (by `write(mem, WrappedArrayHeader, T, dims)`,
by C's `ipc_array_write_header` or by Python's `ipc.write_array_header`).

With an identifier `id` (a name `"/name"`, an [`IPC.Key`](@ref), or for
opening a [`ShmId`](@ref)), the array lives in its own shared memory object
behind a header telling its type and dimensions: given `T` and `dims`, a new
zero-filled array is created (exclusively; `volatile` removes it when closed);
without them the existing one is opened (`readonly` maps it read-only: writing
then throws `ReadOnlyMemoryError`). `T` is one of `Int8` .. `UInt64`,
`Float32`, `Float64`, `ComplexF32`, `ComplexF64`. Such arrays are
[`ShmArray`](@ref)s: `shmid(A)` is their identifier, `close(A)` unmaps them at
once (do not use `A` afterwards), the finalizer otherwise.

The array is column-major, as every Julia array: `A[i+1, j+1]` is `a[i, j]` of
the Fortran-ordered numpy array in Python and `data[i + rows*j]` in C.
"""
struct WrappedArray{T,N,M} <: DenseArray{T,N}
    arr::Array{T,N}  # the elements, wrapped (not owned) by Julia
    mem::M           # the object providing the memory, kept alive by the array
    function WrappedArray{T,N,M}(ptr::Ptr{T}, dims::NTuple{N,Integer}, mem::M) where {T,N,M}
        return new{T,N,M}(unsafe_wrap(Array, ptr, convert(NTuple{N,Int}, dims); own = false), mem)
    end
end

const WrappedVector{T,M} = WrappedArray{T,1,M}
const WrappedMatrix{T,M} = WrappedArray{T,2,M}

"""
    ShmArray{T,N}, ShmVector{T}, ShmMatrix{T}

[`WrappedArray`](@ref)s in shared memory. `ShmArray(id, T, dims...; perms,
volatile)` creates one, `ShmArray(id; readonly)` opens one (as
`WrappedArray` does); `ShmVector` and `ShmMatrix` do the same for ranks 1 and
2 (opening an array of another rank throws `ArgumentError`).
"""
const ShmArray{T,N,M<:Union{SharedMemory,ArrayHandle}} = WrappedArray{T,N,M}
const ShmVector{T,M} = ShmArray{T,1,M}
const ShmMatrix{T,M} = ShmArray{T,2,M}

# Memory objects: the address of their first byte and their size.
_memory(mem) = (Ptr{Cvoid}(pointer(mem)), Int(sizeof(mem)))

function _checkdims(dims::Tuple)
    all(d -> d ≥ 0, dims) || throw(ArgumentError("invalid dimensions $dims: must be nonnegative"))
    return prod(Int, dims; init = 1)
end

function _wrapped_memory(mem, ::Type{T}, offset::Integer) where {T}
    offset ≥ 0 || throw(ArgumentError("offset must be nonnegative"))
    isbitstype(T) || throw(ArgumentError("illegal element type ($T)"))
    ptr, len = _memory(mem)
    addr = ptr + offset
    align = Base.datatype_alignment(T)
    UInt(addr) % align == 0 || throw(ArgumentError("base address must be a multiple of $align bytes"))
    return Ptr{T}(addr), len - Int(offset)
end

function WrappedArray(mem::M, ::Type{T} = UInt8; offset::Integer = 0) where {M,T}
    ptr, len = _wrapped_memory(mem, T, offset)
    len ≥ sizeof(T) || throw(ArgumentError("insufficient memory for at least one element"))
    return WrappedArray{T,1,M}(ptr, (div(len, sizeof(T)),), mem)
end

WrappedArray(mem::M, ::Type{T}, dims::Integer...; kwds...) where {M,T} =
    WrappedArray(mem, T, dims; kwds...)

function WrappedArray(mem::M, ::Type{T}, dims::NTuple{N,Integer}; offset::Integer = 0) where {M,T,N}
    ptr, len = _wrapped_memory(mem, T, offset)
    len ≥ sizeof(T) * _checkdims(dims) || throw(ArgumentError("insufficient memory for array"))
    return WrappedArray{T,N,M}(ptr, dims, mem)
end

function WrappedArray(mem, dec::Function)
    T, dims, offset = dec(mem)
    T isa DataType || error("`dec(mem)[1]` must be a data type")
    dims isa Tuple{Vararg{Integer}} || error("`dec(mem)[2]` must be a tuple of dimensions")
    offset isa Integer || error("`dec(mem)[3]` must be an integer")
    return WrappedArray(mem, T, dims; offset = offset)
end

# Arrays in their own shared memory object, behind a header.

WrappedArray(id::_ShmAddress, ::Type{T}, dims::Integer...; kwds...) where {T} =
    WrappedArray(id, T, dims; kwds...)

function WrappedArray(id::_ShmAddress, ::Type{T}, dims::NTuple{N,Integer};
                      perms::Integer = 0o600, volatile::Bool = true) where {T,N}
    0 ≤ perms ≤ 0o777 ||
        throw(ArgumentError("bad permissions 0o$(string(perms, base = 8)): must be within 0o777"))
    cdims = Int64[dims...]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = volatile ? IPC_UNLINK_ON_CLOSE : UInt32(0)
    _check(ccall((:ipc_array_create, library()), Cint,
                 (Ptr{Ptr{Cvoid}}, Cstring, Cint, Cint, Ptr{Int64}, UInt32, UInt32),
                 out, _address(id), _eltype_code(T), N, cdims, perms, flags))
    return _adopt(out[])
end

# Without dimensions there is nothing to create (and the memory of a name is
# not what the user meant either).
WrappedArray(id::_ShmAddress, ::Type{T}) where {T} =
    throw(ArgumentError("give the dimensions of the array to create at $(repr(_address(id)))"))

function WrappedArray(id::_ShmAddress; readonly::Bool = false, volatile::Bool = false)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = (readonly ? IPC_RDONLY : UInt32(0)) | (volatile ? IPC_UNLINK_ON_CLOSE : UInt32(0))
    _check(ccall((:ipc_array_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32),
                 out, _address(id), flags))
    return _adopt(out[])
end

# The element type and dimensions of an ipc_array handle.
function _layout(handle::Ptr{Cvoid})
    code = _check(ccall((:ipc_array_eltype, library()), Cint, (Ptr{Cvoid},), handle))
    n = _check(ccall((:ipc_array_ndims, library()), Cint, (Ptr{Cvoid},), handle))
    dims = ntuple(n) do k
        Int(_check(ccall((:ipc_array_dim, library()), Int64, (Ptr{Cvoid}, Cint), handle, k - 1)))
    end
    return _ELTYPES[code], dims
end

# Takes ownership of a new ipc_array handle and wraps its elements.
function _adopt(handle::Ptr{Cvoid})
    local T, dims, mem
    try
        T, dims = _layout(handle)
        ptr = ccall((:ipc_array_data, library()), Ptr{Cvoid}, (Ptr{Cvoid},), handle)
        len = ccall((:ipc_array_bytes, library()), Csize_t, (Ptr{Cvoid},), handle)
        readonly = _check(ccall((:ipc_array_readonly, library()), Cint, (Ptr{Cvoid},), handle)) == 1
        buf = Vector{UInt8}(undef, IPC_ADDRESS_MAX)
        n = _check(ccall((:ipc_array_address, library()), Cint, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t),
                         handle, buf, length(buf)))
        address = String(buf[1:n])
        id = startswith(address, "shmid:") ? ShmId(parse(Cint, address[7:end])) : address
        mem = ArrayHandle(handle, ptr, len, readonly, id)
    catch
        ccall((:ipc_array_close, library()), Cint, (Ptr{Cvoid},), handle)
        rethrow()
    end
    return WrappedArray{T,length(dims),ArrayHandle}(Ptr{T}(mem.ptr), dims, mem)
end

(::Type{ShmArray})(id::_ShmAddress, ::Type{T}, dims...; kwds...) where {T} =
    WrappedArray(id, T, dims...; kwds...)
(::Type{ShmArray})(id::_ShmAddress; kwds...) = WrappedArray(id; kwds...)
(::Type{ShmVector})(id::_ShmAddress, ::Type{T}, len::Integer; kwds...) where {T} =
    WrappedArray(id, T, (len,); kwds...)
(::Type{ShmVector})(id::_ShmAddress; kwds...) = _of_rank(WrappedArray(id; kwds...), 1)
(::Type{ShmMatrix})(id::_ShmAddress, ::Type{T}, rows::Integer, cols::Integer; kwds...) where {T} =
    WrappedArray(id, T, (rows, cols); kwds...)
(::Type{ShmMatrix})(id::_ShmAddress; kwds...) = _of_rank(WrappedArray(id; kwds...), 2)

function _of_rank(A::WrappedArray, N::Int)
    ndims(A) == N && return A
    close(A)
    throw(ArgumentError("the shared array is of rank $(ndims(A)), not $N"))
end

# The DenseArray interface. Elements are reached through the wrapped Array, so
# indexing is as fast as for any Array.
Base.size(A::WrappedArray) = size(A.arr)
Base.size(A::WrappedArray, d::Integer) = size(A.arr, d)
Base.length(A::WrappedArray) = length(A.arr)
Base.sizeof(A::WrappedArray) = sizeof(A.arr)
Base.strides(A::WrappedArray) = strides(A.arr)
Base.stride(A::WrappedArray, d::Integer) = stride(A.arr, d)
Base.elsize(::Type{<:WrappedArray{T}}) where {T} = sizeof(T)
Base.IndexStyle(::Type{<:WrappedArray}) = IndexLinear()
Base.@propagate_inbounds Base.getindex(A::WrappedArray, i::Int) = A.arr[i]
Base.@propagate_inbounds Base.setindex!(A::WrappedArray, x, i::Int) = (A.arr[i] = x; A)
Base.copy(A::WrappedArray) = copy(A.arr)
Base.pointer(A::WrappedArray) = pointer(A.arr)
Base.pointer(A::WrappedArray, i::Integer) = pointer(A.arr, i)
# Both methods, as in IPC.jl, so that neither is ambiguous with Base's.
Base.unsafe_convert(::Type{Ptr{T}}, A::WrappedArray{T}) where {T} = Base.unsafe_convert(Ptr{T}, A.arr)
Base.unsafe_convert(::Type{Ptr{S}}, A::WrappedArray{T}) where {S,T} = Base.unsafe_convert(Ptr{S}, A.arr)
Base.unsafe_convert(::Type{Ptr{Cvoid}}, mem::ArrayHandle) = mem.handle

"""
    close(A::WrappedArray)

Closes the memory object of `A` now: for a [`ShmArray`](@ref), unmaps it (and
removes it if it is volatile). `A` must not be used afterwards.
"""
Base.close(A::WrappedArray) = close(A.mem)
Base.isopen(A::WrappedArray) = isopen(A.mem)

function Base.close(mem::ArrayHandle)
    handle = mem.handle
    mem.handle, mem.ptr, mem.len = C_NULL, C_NULL, 0
    handle == C_NULL || _check(ccall((:ipc_array_close, library()), Cint, (Ptr{Cvoid},), handle))
    return nothing
end

Base.isopen(mem::ArrayHandle) = mem.handle != C_NULL
Base.pointer(mem::ArrayHandle) = mem.ptr
Base.sizeof(mem::ArrayHandle) = mem.len
Base.isreadonly(mem::ArrayHandle) = mem.readonly
Base.isreadonly(A::ShmArray) = isreadonly(A.mem)
shmid(mem::ArrayHandle) = mem.id
shmid(A::ShmArray) = shmid(A.mem)
shmrm(mem::ArrayHandle) = shmrm(mem.id)
Base.rm(A::ShmArray) = shmrm(A.mem)

Base.show(io::IO, mem::ArrayHandle) =
    print(io, "IPC.ArrayHandle(", repr(mem.id), isopen(mem) ? "" : ", closed", ")")

"""
    WrappedArrayHeader

The header in front of a shared array (IPC.jl's layout, 16 bytes, then the
dimensions as `Int64`, then padding up to the data offset, a multiple of 64).

    read(mem, WrappedArrayHeader) -> (T, dims, offset)
    write(mem, WrappedArrayHeader, T, dims...)

read and check the header at `pointer(mem)` (a bad header throws `SystemError`
with `EBADMSG`, one not yet written `EAGAIN`), or write one for element type
`T` and dimensions `dims` (the elements are not touched; `ArgumentError` when
they do not fit in `sizeof(mem)`).
"""
struct WrappedArrayHeader
    magic::UInt32  # IPC_ARRAY_MAGIC
    etype::UInt16  # element type code
    ndims::UInt16  # rank
    offset::Int64  # data offset
end

function Base.read(mem, ::Type{WrappedArrayHeader})
    ptr, len = _memory(mem)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve mem begin
        _check(ccall((:ipc_array_wrap, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t, UInt32),
                     out, ptr, len, UInt32(0)))
        try
            T, dims = _layout(out[])
            data = ccall((:ipc_array_data, library()), Ptr{Cvoid}, (Ptr{Cvoid},), out[])
            return T, dims, Int(data - ptr)
        finally
            ccall((:ipc_array_close, library()), Cint, (Ptr{Cvoid},), out[])
        end
    end
end

Base.write(mem, ::Type{WrappedArrayHeader}, ::Type{T}, dims::Integer...) where {T} =
    write(mem, WrappedArrayHeader, T, dims)

function Base.write(mem, ::Type{WrappedArrayHeader}, ::Type{T}, dims::NTuple{N,Integer}) where {T,N}
    ptr, len = _memory(mem)
    cdims = Int64[dims...]
    GC.@preserve mem _check(ccall((:ipc_array_write_header, library()), Cint,
                                  (Ptr{Cvoid}, Csize_t, Cint, Cint, Ptr{Int64}),
                                  ptr, len, _eltype_code(T), N, cdims))
    return nothing
end

# The size of the header of a rank, which is the data offset (IPC.jl's name).
function _wrapped_array_header_size(N::Integer)
    size = ccall((:ipc_array_header_size, library()), Csize_t, (Cint,), N)
    size == 0 && throw(ArgumentError("illegal number of dimensions ($N)"))
    return Int(size)
end
