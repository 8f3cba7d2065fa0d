# Semaphores: POSIX named semaphores and process-shared semaphores in any
# shared memory (include/ipc/sem.h).

"""
    Semaphore(name, value; perms=0o600, volatile=true)  # creates a named semaphore
    Semaphore(name)                                    # opens a named semaphore
    Semaphore(mem, value; offset=0, volatile=true)     # initialises one in memory
    Semaphore(mem; offset=0)                           # attaches to one in memory

A counting semaphore shared by processes, as in IPC.jl. `post(sem)` adds one,
`wait(sem)` takes one (waiting while there is none), `trywait(sem)` and
`timedwait(sem, secs)` take one without waiting or within `secs` seconds;
`sem[]` is the current value.

A named semaphore (`"/name"`, at most 251 bytes after the slash) is the one
`sem_open` opens in C; it is a `Semaphore{String}`. Creation is exclusive
(`SystemError` with `EEXIST` when it exists); `perms` are the permission bits
(owner read and write always kept, the umask does not apply); a `volatile`
semaphore's name is removed when this handle is closed or finalized.

A semaphore in memory sits at byte `offset` of `mem`, a [`SharedMemory`](@ref)
or any object with `pointer(mem)` and `sizeof(mem)` (a `DenseArray`...) that
every user maps shared; it is a `Semaphore{typeof(mem)}` that keeps `mem` alive.
The address must be aligned to `IPC.alignof_semaphore()` with `sizeof(Semaphore)`
bytes there. `volatile` is accepted for IPC.jl's sake: a semaphore in memory
needs no destruction, closing the handle leaves it in place for the others.

`close(sem)` frees the handle now (the finalizer does it otherwise).
"""
mutable struct Semaphore{T}
    handle::Ptr{Cvoid}  # the ipc_sem handle; C_NULL once closed
    lnk::T              # the name, or the memory object the semaphore lives in
    function Semaphore{T}(handle::Ptr{Cvoid}, lnk::T) where {T}
        return finalizer(_finalize, new{T}(handle, lnk))
    end
end

# Finalizers must not throw: a failure here has nobody to report to.
function _finalize(sem::Semaphore)
    handle = sem.handle
    sem.handle = C_NULL
    handle == C_NULL || ccall((:ipc_sem_close, library()), Cint, (Ptr{Cvoid},), handle)
    return nothing
end

Base.sizeof(::Type{Semaphore}) = Int(ccall((:ipc_sem_size, library()), Csize_t, ()))
Base.typemin(::Type{Semaphore}) = Cint(0)
Base.typemax(::Type{Semaphore}) = ccall((:ipc_sem_value_max, library()), Cint, ())

"""
    IPC.alignof_semaphore() -> Int

The alignment, in bytes, of a semaphore in memory (`ipc_sem_alignment()`).
"""
alignof_semaphore() = Int(ccall((:ipc_sem_alignment, library()), Csize_t, ()))

function _semaphore_value(value::Integer)
    typemin(Semaphore) ≤ value ≤ typemax(Semaphore) ||
        throw(ArgumentError("invalid semaphore value ($value): must be from 0 to $(typemax(Semaphore))"))
    return UInt32(value)
end

function Semaphore(name::AbstractString, value::Integer; perms::Integer = 0o600, volatile::Bool = true)
    0 ≤ perms ≤ 0o777 ||
        throw(ArgumentError("bad permissions 0o$(string(perms, base = 8)): must be within 0o777"))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = volatile ? IPC_UNLINK_ON_CLOSE : UInt32(0)
    _check(ccall((:ipc_sem_create, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32, UInt32, UInt32),
                 out, name, _semaphore_value(value), perms, flags))
    return Semaphore{String}(out[], String(name))
end

function Semaphore(name::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall((:ipc_sem_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring), out, name))
    return Semaphore{String}(out[], String(name))
end

# The address and the bytes available at `offset` of memory object `mem`.
function _semaphore_memory(mem, offset::Integer)
    offset ≥ 0 || throw(ArgumentError("offset must be nonnegative ($offset)"))
    if mem isa SharedMemory
        isopen(mem) || throw(ArgumentError("the shared memory is closed"))
        isreadonly(mem) && throw(ArgumentError("the shared memory is mapped read-only"))
    end
    len = sizeof(mem)
    offset ≤ len || throw(ArgumentError("offset $offset is beyond the $len bytes of memory"))
    return Ptr{Cvoid}(pointer(mem)) + offset, len - offset
end

function Semaphore(mem::M, value::Integer; offset::Integer = 0, volatile::Bool = true) where {M}
    # `volatile` is IPC.jl's (sem_destroy when finalized); there is nothing to destroy.
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve mem begin
        addr, avail = _semaphore_memory(mem, offset)
        _check(ccall((:ipc_sem_init, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t, UInt32),
                     out, addr, avail, _semaphore_value(value)))
    end
    return Semaphore{M}(out[], mem)
end

function Semaphore(mem::M; offset::Integer = 0) where {M}
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve mem begin
        addr, avail = _semaphore_memory(mem, offset)
        _check(ccall((:ipc_sem_attach, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t),
                     out, addr, avail))
    end
    return Semaphore{M}(out[], mem)
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, sem::Semaphore) = sem.handle
Base.isopen(sem::Semaphore) = sem.handle != C_NULL

"""
    close(sem::Semaphore)

Frees the handle now; a volatile named semaphore loses its name. A semaphore in
memory stays in place for the other processes. Closing again does nothing.
"""
function Base.close(sem::Semaphore)
    handle = sem.handle
    sem.handle = C_NULL
    handle == C_NULL || _check(ccall((:ipc_sem_close, library()), Cint, (Ptr{Cvoid},), handle))
    return nothing
end

function Base.show(io::IO, sem::Semaphore{T}) where {T}
    print(io, "Semaphore{", T, "}(", T === String ? repr(sem.lnk) : "in memory",
          isopen(sem) ? ", value=$(sem[])" : ", closed", ")")
end

"""
    rm(Semaphore, name)
    rm(sem::Semaphore{String})

Removes the name of a named semaphore; processes that have it open keep using
it. Removing a name that does not exist does nothing, as in IPC.jl.
"""
function Base.rm(::Type{Semaphore}, name::AbstractString)
    rc = ccall((:ipc_sem_unlink, library()), Cint, (Cstring,), name)
    rc == -Libc.ENOENT || _check(rc)
    return nothing
end

Base.rm(sem::Semaphore{String}) = rm(Semaphore, sem.lnk)

"""
    sem[] -> Int

The current value of semaphore `sem` (0 while processes wait); it may have
changed by the time it is returned.
"""
Base.getindex(sem::Semaphore) = Int(_check(ccall((:ipc_sem_value, library()), Cint, (Ptr{Cvoid},), sem)))

Base.convert(::Type{T}, sem::Semaphore) where {T<:Integer} = convert(T, sem[])

"""
    post(sem)

Increments semaphore `sem`, waking one waiter if any (`SystemError` with
`EOVERFLOW` at `typemax(Semaphore)`).
"""
post(sem::Semaphore) = (_check(ccall((:ipc_sem_post, library()), Cint, (Ptr{Cvoid},), sem)); nothing)

"""
    wait(sem::Semaphore)

Decrements semaphore `sem`, waiting while its value is 0. A signal that
interrupts the wait is handled by Julia: a pending Ctrl-C throws
`InterruptException`; otherwise the wait resumes.
"""
function Base.wait(sem::Semaphore)
    _waiting(() -> ccall((:ipc_sem_wait, library()), Cint, (Ptr{Cvoid},), sem))
    return nothing
end

"""
    timedwait(sem::Semaphore, secs)

Decrements semaphore `sem`, waiting at most `secs` seconds (relative, on a
monotonic clock; `0` polls, `Inf` waits without limit); throws
[`TimeoutError`](@ref IPC.TimeoutError) when the time runs out and
`ArgumentError` for a negative or NaN `secs`. Signals are handled as by `wait`,
and the wait resumes with the time left.
"""
function Base.timedwait(sem::Semaphore, secs::Real)
    _waiting(Float64(secs)) do seconds
        ccall((:ipc_sem_timedwait, library()), Cint, (Ptr{Cvoid}, Cdouble), sem, seconds)
    end
    return nothing
end

"""
    trywait(sem) -> Bool

Decrements semaphore `sem` if its value is above 0 and returns `true`;
returns `false` at once otherwise.
"""
function trywait(sem::Semaphore)
    rc = ccall((:ipc_sem_trywait, library()), Cint, (Ptr{Cvoid},), sem)
    rc == -Libc.EAGAIN && return false
    _check(rc)
    return true
end

"""
    IPC.spin!(sem, nanoseconds) -> sem

Makes waits through this handle poll the semaphore for at most `nanoseconds`
before sleeping in the kernel (0, the default, sleeps at once); it pays off
only when the poster runs on another core.
"""
function spin!(sem::Semaphore, nanoseconds::Integer)
    _check(ccall((:ipc_sem_set_spin, library()), Cint, (Ptr{Cvoid}, Int64), sem, nanoseconds))
    return sem
end
