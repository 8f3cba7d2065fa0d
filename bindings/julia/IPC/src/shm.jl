# Shared memory: POSIX named objects and System V segments (include/ipc/shm.h).

"""
    IPC.Key(value)
    IPC.Key(path, proj)

A System V IPC key: a 32-bit value, or one made with `ftok` from an existing
file and a project number (1 to 255). `IPC.PRIVATE` (key 0) makes a new
segment that other processes reach through its [`ShmId`](@ref).
"""
struct Key
    value::Int32
    Key(value::Integer) = new(value isa Unsigned ? reinterpret(Int32, UInt32(value)) : Int32(value))
end

function Key(path::AbstractString, proj::Integer)
    key = Ref{Int32}(0)
    _check(ccall((:ipc_shm_key, library()), Cint, (Cstring, Cint, Ref{Int32}), String(path), proj, key))
    return Key(key[])
end

"""
    IPC.PRIVATE

The key that makes a new, private System V segment.
"""
const PRIVATE = Key(0)

Base.show(io::IO, key::Key) = print(io, "IPC.Key(", key.value, ")")

"""
    ShmId(id)
    ShmId(shm)
    ShmId(key; readonly=false)

The identifier of a System V shared memory segment: from its number, from a
[`SharedMemory`](@ref) on a segment, or from the key of an existing segment
(`readonly` is accepted for IPC.jl's sake and changes nothing).
"""
struct ShmId
    value::Cint
    ShmId(value::Integer) = new(value)
end

ShmId(id::ShmId) = id
# `readonly` is IPC.jl's; finding the identifier needs no access, so it is ignored.
ShmId(key::Key; readonly::Bool = false) = ShmId(shminfo(key).id)

Base.show(io::IO, id::ShmId) = print(io, "ShmId(", id.value, ")")
Base.convert(::Type{T}, id::ShmId) where {T<:Integer} = convert(T, id.value)

"""
    ShmInfo()
    ShmInfo(arg)

What the system knows of a shared memory object: for System V segments the
fields of `shmctl(IPC_STAT)`, for POSIX objects those of `fstat` (with the
System V-only fields `nattch`, `id`, `cpid`, `lpid` set to -1). `info.segsz`
is `info.size`, as in IPC.jl. `ShmInfo(arg)` is [`shminfo(arg)`](@ref shminfo).
"""
# mirrors ipc_shm_info
mutable struct ShmInfo
    size::UInt64
    atime::Int64
    dtime::Int64
    ctime::Int64
    nattch::Int64
    kind::Int32
    id::Int32
    key::Int32
    cpid::Int32
    lpid::Int32
    mode::UInt32
    uid::UInt32
    gid::UInt32
    cuid::UInt32
    cgid::UInt32
    ShmInfo() = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
end

push!(_layout_checks, function ()
    want = ccall((:ipc_shm_info_size, library()), Csize_t, ())
    want == sizeof(ShmInfo) ||
        error("IPC: ipc_shm_info has $want bytes in $(library()), ShmInfo has $(sizeof(ShmInfo))")
end)

Base.getproperty(info::ShmInfo, name::Symbol) =
    name === :segsz ? getfield(info, :size) : getfield(info, name)
Base.propertynames(::ShmInfo, private::Bool = false) = (fieldnames(ShmInfo)..., :segsz)

"""
    SharedMemory(id, len; perms=0o600, volatile=true)
    SharedMemory(id; size=len, perms=0o600, volatile=true)
    SharedMemory(id; readonly=false, volatile=false)

With a length, creates shared memory of `len` bytes (zero-filled) and maps it
read-write; creation is exclusive (`SystemError` with `EEXIST` if it exists).
`id` is a name `"/name"` (POSIX) or an [`IPC.Key`](@ref) (System V; `IPC.PRIVATE`
for a new private segment). `perms` are the permission bits (owner read and
write always kept, the umask does not apply). A `volatile` object is removed
when this handle is closed (or finalized).

Without a length, maps existing shared memory: `id` is a name, a key or a
[`ShmId`](@ref). `readonly=true` maps it read-only; `volatile=true` removes it
when this handle is closed.

`pointer(shm)`, `sizeof(shm)` and `shmid(shm)` give the address, the size and
the identifier (a name, or a `ShmId`); `close(shm)` unmaps it at once (the
finalizer does it otherwise); `rm(shm)` removes the object.
"""
mutable struct SharedMemory{T<:Union{String,ShmId}}
    handle::Ptr{Cvoid}  # the ipc_shm handle; C_NULL once closed
    ptr::Ptr{Cvoid}     # mapped address
    len::Int            # mapped size in bytes
    volatile::Bool      # removed when closed
    id::T               # the name, or the System V segment identifier
    function SharedMemory{T}(handle::Ptr{Cvoid}, ptr::Ptr{Cvoid}, len::Integer, volatile::Bool,
                             id::T) where {T<:Union{String,ShmId}}
        return finalizer(_finalize, new{T}(handle, ptr, len, volatile, id))
    end
end

_address(name::AbstractString) = String(name)
_address(key::Key) = key.value == 0 ? "private" : "key:$(key.value)"
_address(id::ShmId) = "shmid:$(id.value)"
_address(shm::SharedMemory) = _address(shm.id)

# Finalizers must not throw: a failure here has nobody to report to.
function _finalize(shm::SharedMemory)
    handle = shm.handle
    shm.handle = C_NULL
    handle == C_NULL || ccall((:ipc_shm_close, library()), Cint, (Ptr{Cvoid},), handle)
    return nothing
end

# Takes ownership of a new handle and wraps it.
function _wrap(handle::Ptr{Cvoid}, volatile::Bool)
    try
        ptr = ccall((:ipc_shm_addr, library()), Ptr{Cvoid}, (Ptr{Cvoid},), handle)
        len = ccall((:ipc_shm_size, library()), Csize_t, (Ptr{Cvoid},), handle)
        buf = Vector{UInt8}(undef, IPC_ADDRESS_MAX)
        n = _check(ccall((:ipc_shm_address, library()), Cint, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t),
                         handle, buf, length(buf)))
        address = String(buf[1:n])
        if startswith(address, "shmid:")
            return SharedMemory{ShmId}(handle, ptr, len, volatile, ShmId(parse(Cint, address[7:end])))
        end
        return SharedMemory{String}(handle, ptr, len, volatile, address)
    catch
        ccall((:ipc_shm_close, library()), Cint, (Ptr{Cvoid},), handle)
        rethrow()
    end
end

function _create(id, len::Integer, perms::Integer, volatile::Bool)
    len ≥ 1 || throw(ArgumentError("bad number of bytes ($len): must be at least 1"))
    0 ≤ perms ≤ 0o777 ||
        throw(ArgumentError("bad permissions 0o$(string(perms, base = 8)): must be within 0o777"))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = volatile ? IPC_UNLINK_ON_CLOSE : UInt32(0)
    _check(ccall((:ipc_shm_create, library()), Cint,
                 (Ptr{Ptr{Cvoid}}, Cstring, Csize_t, UInt32, UInt32),
                 out, _address(id), len, perms, flags))
    return _wrap(out[], volatile)
end

function _open(id, readonly::Bool, volatile::Bool)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = (readonly ? IPC_RDONLY : UInt32(0)) | (volatile ? IPC_UNLINK_ON_CLOSE : UInt32(0))
    _check(ccall((:ipc_shm_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32),
                 out, _address(id), flags))
    return _wrap(out[], volatile)
end

const _ShmAddress = Union{AbstractString,Key,ShmId}

SharedMemory(id::_ShmAddress, len::Integer; perms::Integer = 0o600, volatile::Bool = true) =
    _create(id, len, perms, volatile)

function SharedMemory(id::_ShmAddress; readonly::Bool = false,
                      size::Union{Integer,Nothing} = nothing, perms::Integer = 0o600,
                      volatile::Union{Bool,Nothing} = nothing)
    if size !== nothing
        readonly && throw(ArgumentError("new shared memory cannot be read-only"))
        return _create(id, size, perms, something(volatile, true))
    end
    return _open(id, readonly, something(volatile, false))
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, shm::SharedMemory) = shm.handle
Base.pointer(shm::SharedMemory) = shm.ptr
Base.sizeof(shm::SharedMemory) = shm.len
Base.isopen(shm::SharedMemory) = shm.handle != C_NULL

"""
    close(shm::SharedMemory)

Unmaps the memory now (removing the object if it is volatile). The memory stays
valid for other processes. Closing again does nothing.
"""
function Base.close(shm::SharedMemory)
    handle = shm.handle
    shm.handle, shm.ptr, shm.len = C_NULL, C_NULL, 0
    handle == C_NULL || _check(ccall((:ipc_shm_close, library()), Cint, (Ptr{Cvoid},), handle))
    return nothing
end

"""
    isreadonly(shm::SharedMemory) -> Bool

Whether `shm` maps its memory read-only.
"""
Base.isreadonly(shm::SharedMemory) =
    _check(ccall((:ipc_shm_readonly, library()), Cint, (Ptr{Cvoid},), shm)) == 1

function Base.show(io::IO, shm::SharedMemory)
    print(io, "SharedMemory(", repr(shm.id), "; len=", shm.len, ", ptr=", shm.ptr,
          isopen(shm) ? "" : ", closed", ")")
end

"""
    shmid(arg)

The identifier of shared memory: the name of a POSIX object, or the
[`ShmId`](@ref) of a System V segment. `arg` is a [`SharedMemory`](@ref), a
name, an [`IPC.Key`](@ref) or a `ShmId`.
"""
shmid(shm::SharedMemory) = shm.id
ShmId(shm::SharedMemory{ShmId}) = shm.id
shmid(id::ShmId) = id
shmid(key::Key; readonly::Bool = false) = ShmId(key)
shmid(name::AbstractString) = String(name)

"""
    shmrm(arg)

Removes shared memory: unlinks a POSIX name, or marks a System V segment for
removal (it goes once the last process detaches). `arg` is a name, an
[`IPC.Key`](@ref), a [`ShmId`](@ref) or a [`SharedMemory`](@ref). Removing what
does not exist does nothing, as in IPC.jl.
"""
function shmrm(arg::Union{_ShmAddress,SharedMemory})
    rc = ccall((:ipc_shm_unlink, library()), Cint, (Cstring,), _address(arg))
    rc == -Libc.ENOENT || _check(rc)
    return nothing
end

Base.rm(shm::SharedMemory) = shmrm(shm)
Base.rm(id::ShmId) = shmrm(id)
Base.rm(::Type{SharedMemory}, key::Key) = shmrm(key)
Base.rm(::Type{SharedMemory}, name::AbstractString) = shmrm(name)

"""
    shminfo(arg) -> ShmInfo
    shminfo!(arg, info) -> info

What the system knows of shared memory `arg`: a [`SharedMemory`](@ref), a
name, an [`IPC.Key`](@ref) or a [`ShmId`](@ref). `shminfo!` overwrites `info`.
"""
shminfo(arg) = shminfo!(arg, ShmInfo())

function shminfo!(shm::SharedMemory, info::ShmInfo)
    _check(ccall((:ipc_shm_fstat, library()), Cint, (Ptr{Cvoid}, Ref{ShmInfo}), shm, info))
    return info
end

function shminfo!(arg::_ShmAddress, info::ShmInfo)
    _check(ccall((:ipc_shm_stat, library()), Cint, (Cstring, Ref{ShmInfo}), _address(arg), info))
    return info
end

ShmInfo(arg::Union{_ShmAddress,SharedMemory}) = shminfo(arg)

Base.sizeof(id::ShmId) = Int(shminfo(id).size)

"""
    shmcfg(arg, perms) -> id

Changes the permission bits of shared memory (owner read and write are always
kept) and returns its identifier. `arg` is a [`SharedMemory`](@ref), a name, an
[`IPC.Key`](@ref) or a [`ShmId`](@ref).
"""
function shmcfg(shm::SharedMemory, perms::Integer)
    0 ≤ perms ≤ 0o777 ||
        throw(ArgumentError("bad permissions 0o$(string(perms, base = 8)): must be within 0o777"))
    _check(ccall((:ipc_shm_chmod, library()), Cint, (Ptr{Cvoid}, UInt32), shm, perms))
    return shmid(shm)
end

function shmcfg(arg::_ShmAddress, perms::Integer)
    shm = SharedMemory(arg; readonly = true)
    try
        return shmcfg(shm, perms)
    finally
        close(shm)
    end
end
