# Locks: robust mutexes, condition variables and read/write locks
# (include/ipc/sync.h), with IPC.jl's names, and attachable from any process.

"""
    IPC.Mutex(name; create=false, open_or_create=false, perms=0o600, volatile=create)
    IPC.Mutex(mem, off=0; attach=false)

A robust mutex shared by processes. By name (`"/name"`): `create = true` makes
one (exclusively; `open_or_create = true` opens an existing one instead),
otherwise an existing one is opened; `perms` are the permission bits (the umask
does not apply), and a `volatile` mutex loses its name when this handle is
closed or finalized. In memory: initialises one at byte offset `off` of `mem`
(a [`SharedMemory`](@ref) or anything with `pointer` and `sizeof`, such as a
`Vector{UInt8}`), as IPC.jl did, or with `attach = true` returns a handle to the
one another process initialised there. It needs `sizeof(IPC.Mutex)` bytes at an
offset aligned to `IPC.IPC_SYNC_ALIGN`. IPC.jl's `shared` keyword is accepted:
every lock is process-shared.

`lock`, `unlock`, `trylock`, [`timedlock`](@ref) and `lock(f, mutex)` use it.
When the previous owner died holding it, `lock` throws a `SystemError` with
`errnum == Libc.EOWNERDEAD` and the caller **holds** the mutex: repair the
shared state, call [`IPC.consistent`](@ref), then `unlock`. Closing the
mutex (or its memory) while this task's thread holds it keeps the memory
mapped until the process ends, so that a death is still seen; unlock first.
"""
mutable struct Mutex{T}
    handle::Ptr{Cvoid}  # the ipc_mutex handle; C_NULL once closed
    lnk::T              # the name, or the memory object the mutex lives in
    function Mutex{T}(handle::Ptr{Cvoid}, lnk::T) where {T}
        return finalizer(_finalize, new{T}(handle, lnk))
    end
end

"""
    IPC.Condition(name; create=false, open_or_create=false, perms=0o600, volatile=create)
    IPC.Condition(mem, off=0; attach=false)

A condition variable shared by processes, made or opened as [`IPC.Mutex`](@ref).
`wait(cond, mutex)`, `timedwait(cond, mutex, secs)`, [`signal`](@ref)`(cond)`,
`broadcast(cond)` and `notify(cond; all=false)` use it.
"""
mutable struct Condition{T}
    handle::Ptr{Cvoid}  # the ipc_cond handle; C_NULL once closed
    lnk::T
    function Condition{T}(handle::Ptr{Cvoid}, lnk::T) where {T}
        return finalizer(_finalize, new{T}(handle, lnk))
    end
end

"""
    IPC.RWLock(name; create=false, open_or_create=false, perms=0o600, volatile=create, prefer_writer=false)
    IPC.RWLock(mem, off=0; attach=false, prefer_writer=false)

A read/write lock shared by processes, made or opened as [`IPC.Mutex`](@ref).
`prefer_writer = true` (when making one) lets waiting writers go before new
readers. `lock(rw, 'r')`/`lock(rw, 'w')`, `trylock(rw, mode)`,
[`timedlock`](@ref)`(rw, mode, secs)`, `unlock(rw)` and `lock(f, rw, mode)` use
it. It is not robust: a process that dies holding it leaves it held.
"""
mutable struct RWLock{T}
    handle::Ptr{Cvoid}  # the ipc_rwlock handle; C_NULL once closed
    lnk::T
    function RWLock{T}(handle::Ptr{Cvoid}, lnk::T) where {T}
        return finalizer(_finalize, new{T}(handle, lnk))
    end
end

const _Lock = Union{Mutex,Condition,RWLock}

# The C functions that differ only by kind, one table per kind.
_close_handle(::Type{<:Mutex}, h::Ptr{Cvoid}) = ccall((:ipc_mutex_close, library()), Cint, (Ptr{Cvoid},), h)
_close_handle(::Type{<:Condition}, h::Ptr{Cvoid}) = ccall((:ipc_cond_close, library()), Cint, (Ptr{Cvoid},), h)
_close_handle(::Type{<:RWLock}, h::Ptr{Cvoid}) = ccall((:ipc_rwlock_close, library()), Cint, (Ptr{Cvoid},), h)

_c_create(::Type{Mutex}, out, name, perms, flags) =
    ccall((:ipc_mutex_create, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32, UInt32), out, name, perms, flags)
_c_create(::Type{Condition}, out, name, perms, flags) =
    ccall((:ipc_cond_create, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32, UInt32), out, name, perms, flags)
_c_create(::Type{RWLock}, out, name, perms, flags) =
    ccall((:ipc_rwlock_create, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32, UInt32), out, name, perms, flags)

_c_open(::Type{Mutex}, out, name) = ccall((:ipc_mutex_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring), out, name)
_c_open(::Type{Condition}, out, name) = ccall((:ipc_cond_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring), out, name)
_c_open(::Type{RWLock}, out, name) = ccall((:ipc_rwlock_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring), out, name)

_c_init(::Type{Mutex}, out, addr, avail, flags) =
    ccall((:ipc_mutex_init, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t, UInt32), out, addr, avail, flags)
_c_init(::Type{Condition}, out, addr, avail, flags) =
    ccall((:ipc_cond_init, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t, UInt32), out, addr, avail, flags)
_c_init(::Type{RWLock}, out, addr, avail, flags) =
    ccall((:ipc_rwlock_init, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t, UInt32), out, addr, avail, flags)

_c_attach(::Type{Mutex}, out, addr, avail) =
    ccall((:ipc_mutex_attach, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t), out, addr, avail)
_c_attach(::Type{Condition}, out, addr, avail) =
    ccall((:ipc_cond_attach, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t), out, addr, avail)
_c_attach(::Type{RWLock}, out, addr, avail) =
    ccall((:ipc_rwlock_attach, library()), Cint, (Ptr{Ptr{Cvoid}}, Ptr{Cvoid}, Csize_t), out, addr, avail)

_c_unlink(::Type{Mutex}, name) = ccall((:ipc_mutex_unlink, library()), Cint, (Cstring,), name)
_c_unlink(::Type{Condition}, name) = ccall((:ipc_cond_unlink, library()), Cint, (Cstring,), name)
_c_unlink(::Type{RWLock}, name) = ccall((:ipc_rwlock_unlink, library()), Cint, (Cstring,), name)

Base.sizeof(::Type{<:Mutex}) = Int(ccall((:ipc_mutex_size, library()), Csize_t, ()))
Base.sizeof(::Type{<:Condition}) = Int(ccall((:ipc_cond_size, library()), Csize_t, ()))
Base.sizeof(::Type{<:RWLock}) = Int(ccall((:ipc_rwlock_size, library()), Csize_t, ()))

# Finalizers must not throw: a failure here has nobody to report to.
function _finalize(obj::_Lock)
    handle = obj.handle
    obj.handle = C_NULL
    handle == C_NULL || _close_handle(typeof(obj), handle)
    return nothing
end

function _named(::Type{L}, name::AbstractString, create::Bool, open_or_create::Bool, perms::Integer,
                volatile::Bool, flags::UInt32) where {L<:_Lock}
    out = Ref{Ptr{Cvoid}}(C_NULL)
    if create || open_or_create
        0 ≤ perms ≤ 0o777 ||
            throw(ArgumentError("bad permissions 0o$(string(perms, base = 8)): must be within 0o777"))
        flags |= (volatile ? IPC_UNLINK_ON_CLOSE : UInt32(0)) | (open_or_create ? IPC_OPEN_OR_CREATE : UInt32(0))
        _check(_c_create(L, out, String(name), perms, flags))
    else
        volatile && throw(ArgumentError("only a lock made by this handle can be volatile"))
        _check(_c_open(L, out, String(name)))
    end
    return L{String}(out[], String(name))
end

# The address and the bytes available at `off` of memory object `mem`.
function _lock_memory(mem, off::Integer)
    off ≥ 0 || throw(ArgumentError("offset must be nonnegative ($off)"))
    if mem isa SharedMemory
        isopen(mem) || throw(ArgumentError("the shared memory is closed"))
        isreadonly(mem) && throw(ArgumentError("the shared memory is mapped read-only"))
    end
    len = sizeof(mem)
    off ≤ len || throw(ArgumentError("offset $off is beyond the $len bytes of memory"))
    return Ptr{Cvoid}(pointer(mem)) + off, len - off
end

function _in_memory(::Type{L}, mem::M, off::Integer, attach::Bool, flags::UInt32) where {L<:_Lock,M}
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve mem begin
        addr, avail = _lock_memory(mem, off)
        _check(attach ? _c_attach(L, out, addr, avail) : _c_init(L, out, addr, avail, flags))
    end
    return L{M}(out[], mem)
end

Mutex(name::AbstractString; create::Bool = false, open_or_create::Bool = false, perms::Integer = 0o600,
      volatile::Bool = create) = _named(Mutex, name, create, open_or_create, perms, volatile, UInt32(0))
Condition(name::AbstractString; create::Bool = false, open_or_create::Bool = false, perms::Integer = 0o600,
          volatile::Bool = create) = _named(Condition, name, create, open_or_create, perms, volatile, UInt32(0))
RWLock(name::AbstractString; create::Bool = false, open_or_create::Bool = false, perms::Integer = 0o600,
       volatile::Bool = create, prefer_writer::Bool = false) =
    _named(RWLock, name, create, open_or_create, perms, volatile,
           prefer_writer ? IPC_RWLOCK_PREFER_WRITER : UInt32(0))

# `shared` is IPC.jl's (process-private or shared): every lock here is shared.
Mutex(mem, off::Integer = 0; attach::Bool = false, shared::Bool = true) =
    _in_memory(Mutex, mem, off, attach, UInt32(0))
Condition(mem, off::Integer = 0; attach::Bool = false, shared::Bool = true) =
    _in_memory(Condition, mem, off, attach, UInt32(0))
RWLock(mem, off::Integer = 0; attach::Bool = false, shared::Bool = true, prefer_writer::Bool = false) =
    _in_memory(RWLock, mem, off, attach, prefer_writer ? IPC_RWLOCK_PREFER_WRITER : UInt32(0))

Base.unsafe_convert(::Type{Ptr{Cvoid}}, obj::_Lock) = obj.handle
Base.isopen(obj::_Lock) = obj.handle != C_NULL

"""
    close(lock::Union{IPC.Mutex,IPC.Condition,IPC.RWLock})

Frees the handle now; a volatile named lock loses its name. The lock itself
stays for the other processes, and a lock this process holds stays held.
Closing again does nothing.
"""
function Base.close(obj::_Lock)
    handle = obj.handle
    obj.handle = C_NULL
    handle == C_NULL || _check(_close_handle(typeof(obj), handle))
    return nothing
end

function Base.show(io::IO, obj::L) where {L<:_Lock}
    print(io, "IPC.", nameof(L), "(", obj.lnk isa String ? repr(obj.lnk) : "in memory",
          isopen(obj) ? "" : ", closed", ")")
end

"""
    rm(IPC.Mutex, name)
    rm(IPC.Condition, name)
    rm(IPC.RWLock, name)

Removes the name of a named lock; processes that have it open keep using it.
Removing a name that does not exist does nothing, as `shmrm`.
"""
function Base.rm(::Type{L}, name::AbstractString) where {L<:_Lock}
    rc = _c_unlink(Base.typename(L).wrapper, String(name))
    rc == -Libc.ENOENT || _check(rc)
    return nothing
end

Base.rm(obj::Union{Mutex{String},Condition{String},RWLock{String}}) = rm(typeof(obj), obj.lnk)

# Lock waits do not end when a signal arrives (pthread waits resume), so they
# run in slices of at most this many seconds; between slices a pending Ctrl-C
# throws InterruptException at the safepoint.
const _SLICE = 0.1

# Runs the timed wait `call(seconds)` until it returns anything but -ETIMEDOUT,
# or until `secs` ran out (on the monotonic clock of time_ns), and returns its
# last return code.
function _sliced(call::Function, secs::Real = Inf)
    secs = Float64(secs)
    (isnan(secs) || secs < 0) && return call(secs)  # the library says what is wrong
    start = time_ns()
    while true
        left = secs - (time_ns() - start) / 1e9
        rc = call(min(_SLICE, max(0.0, left)))
        (rc == -Libc.ETIMEDOUT && left > _SLICE) || return rc
        GC.safepoint()
    end
end

# What a timed lock returns: true when taken, false when the time ran out.
_taken(rc::Integer) = rc == -Libc.ETIMEDOUT ? false : (_check(rc); true)
# What a try lock returns: true when taken, false when held elsewhere.
_tried(rc::Integer) = rc == -Libc.EAGAIN ? false : (_check(rc); true)

"""
    lock(mutex::IPC.Mutex)

Locks the mutex, waiting as long as it takes. Throws a `SystemError` with
`Libc.EOWNERDEAD` (the mutex then held) when its last owner died holding it,
`Libc.ENOTRECOVERABLE` when it was unlocked after that without
[`IPC.consistent`](@ref), `Libc.EDEADLK` when this thread holds it already.
"""
function Base.lock(m::Mutex)
    _check(_sliced(s -> ccall((:ipc_mutex_timedlock, library()), Cint, (Ptr{Cvoid}, Cdouble), m, s)))
    return nothing
end

"""
    timedlock(mutex::IPC.Mutex, secs) -> Bool
    timedlock(rwlock::IPC.RWLock, mode, secs) -> Bool

Locks, waiting at most `secs` seconds (relative, on the monotonic clock):
`true` when locked, `false` when the time ran out. Errors as `lock`.
"""
timedlock(m::Mutex, secs::Real) =
    _taken(_sliced(s -> ccall((:ipc_mutex_timedlock, library()), Cint, (Ptr{Cvoid}, Cdouble), m, s), secs))

"""
    trylock(mutex::IPC.Mutex) -> Bool

Locks the mutex if it is free: `false` when anyone holds it (this thread too).
"""
Base.trylock(m::Mutex) = _tried(ccall((:ipc_mutex_trylock, library()), Cint, (Ptr{Cvoid},), m))

"""
    unlock(mutex::IPC.Mutex)

Unlocks the mutex: `SystemError` with `Libc.EPERM` when this thread does not hold it.
"""
Base.unlock(m::Mutex) = (_check(ccall((:ipc_mutex_unlock, library()), Cint, (Ptr{Cvoid},), m)); nothing)

function Base.lock(f::Function, m::Mutex)
    lock(m)
    try
        return f()
    finally
        unlock(m)
    end
end

"""
    IPC.consistent(mutex::IPC.Mutex)

Marks a mutex consistent again after `lock` reported that its owner died; the
caller keeps holding it and unlocks it as usual.
"""
consistent(m::Mutex) = (_check(ccall((:ipc_mutex_consistent, library()), Cint, (Ptr{Cvoid},), m)); nothing)

"""
    IPC.spin!(mutex::IPC.Mutex, nanoseconds) -> mutex

Makes waits through this handle poll the mutex for at most `nanoseconds`
before sleeping in the kernel (0, the default, sleeps at once).
"""
function spin!(m::Mutex, nanoseconds::Integer)
    _check(ccall((:ipc_mutex_set_spin, library()), Cint, (Ptr{Cvoid}, Int64), m, nanoseconds))
    return m
end

"""
    IPC.spin!(cond::IPC.Condition, nanoseconds) -> cond

Makes waits through this handle poll for a signal, after releasing the mutex,
for at most `nanoseconds` before sleeping in the kernel (0, the default, sleeps
at once). A timed wait never spins past its timeout.
"""
function spin!(c::Condition, nanoseconds::Integer)
    _check(ccall((:ipc_cond_set_spin, library()), Cint, (Ptr{Cvoid}, Int64), c, nanoseconds))
    return c
end

# The untimed C waits, for callers who want no slices (no Ctrl-C either).
_lock_untimed(m::Mutex) = ccall((:ipc_mutex_lock, library()), Cint, (Ptr{Cvoid},), m)
_wait_untimed(c::Condition, m::Mutex) = ccall((:ipc_cond_wait, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}), c, m)
_rdlock_untimed(rw::RWLock) = ccall((:ipc_rwlock_rdlock, library()), Cint, (Ptr{Cvoid},), rw)
_wrlock_untimed(rw::RWLock) = ccall((:ipc_rwlock_wrlock, library()), Cint, (Ptr{Cvoid},), rw)

_cond_timedwait(c::Condition, m::Mutex, s::Float64) =
    ccall((:ipc_cond_timedwait, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Cdouble), c, m, s)

"""
    wait(cond::IPC.Condition, mutex::IPC.Mutex)

Unlocks `mutex` (held by the caller), waits for a signal and locks `mutex`
again. It may return without a signal (a spurious wake-up; here at least every
fraction of a second, so that Ctrl-C is seen): wait in a loop that checks the
shared state. Errors as `lock(mutex)`, and `Libc.EPERM` when the caller does
not hold `mutex`.
"""
function Base.wait(c::Condition, m::Mutex)
    # One slice only: waiting again after a slice could miss a signal sent
    # while this thread was retaking the mutex.
    rc = _cond_timedwait(c, m, _SLICE)
    rc == -Libc.ETIMEDOUT || _check(rc)
    GC.safepoint()
    return nothing
end

"""
    timedwait(cond::IPC.Condition, mutex::IPC.Mutex, secs) -> Bool

As `wait(cond, mutex)`, waiting at most `secs` seconds in one piece: `false`
when the time ran out, `true` otherwise (possibly a spurious wake-up: check the
shared state). A Ctrl-C is seen when it returns.
"""
function Base.timedwait(c::Condition, m::Mutex, secs::Real)
    taken = _taken(_cond_timedwait(c, m, Float64(secs)))
    GC.safepoint()
    return taken
end

"""
    signal(cond::IPC.Condition)

Wakes at least one waiter of `cond`, if any.
"""
signal(c::Condition) = (_check(ccall((:ipc_cond_signal, library()), Cint, (Ptr{Cvoid},), c)); nothing)

"""
    broadcast(cond::IPC.Condition)

Wakes every waiter of `cond`.
"""
Base.broadcast(c::Condition) = (_check(ccall((:ipc_cond_broadcast, library()), Cint, (Ptr{Cvoid},), c)); nothing)

"""
    notify(cond::IPC.Condition; all=false)

[`signal`](@ref)`(cond)`, or `broadcast(cond)` with `all = true`, in the words
of Julia's own `Condition`.
"""
Base.notify(c::Condition; all::Bool = false) = all ? broadcast(c) : signal(c)

function _mode(mode::Char)
    mode == 'r' || mode == 'w' || throw(ArgumentError("invalid mode $(repr(mode)): 'r' (read) or 'w' (write)"))
    return mode
end

function _rw_timed(rw::RWLock, mode::Char, s::Float64)
    if _mode(mode) == 'r'
        return ccall((:ipc_rwlock_timedrdlock, library()), Cint, (Ptr{Cvoid}, Cdouble), rw, s)
    end
    return ccall((:ipc_rwlock_timedwrlock, library()), Cint, (Ptr{Cvoid}, Cdouble), rw, s)
end

"""
    lock(rw::IPC.RWLock, mode)

Locks `rw` for reading (`mode = 'r'`) or writing (`'w'`), waiting as long as
it takes. `SystemError` with `Libc.EDEADLK` when this thread holds the write lock.
"""
function Base.lock(rw::RWLock, mode::Char)
    _mode(mode)
    _check(_sliced(s -> _rw_timed(rw, mode, s)))
    return nothing
end

timedlock(rw::RWLock, mode::Char, secs::Real) = (_mode(mode); _taken(_sliced(s -> _rw_timed(rw, mode, s), secs)))

"""
    trylock(rw::IPC.RWLock, mode) -> Bool

Locks `rw` for reading (`'r'`) or writing (`'w'`) if that is possible at once.
"""
function Base.trylock(rw::RWLock, mode::Char)
    if _mode(mode) == 'r'
        return _tried(ccall((:ipc_rwlock_tryrdlock, library()), Cint, (Ptr{Cvoid},), rw))
    end
    return _tried(ccall((:ipc_rwlock_trywrlock, library()), Cint, (Ptr{Cvoid},), rw))
end

"""
    unlock(rw::IPC.RWLock)

Releases the read or write lock this thread holds.
"""
Base.unlock(rw::RWLock) = (_check(ccall((:ipc_rwlock_unlock, library()), Cint, (Ptr{Cvoid},), rw)); nothing)

function Base.lock(f::Function, rw::RWLock, mode::Char)
    lock(rw, mode)
    try
        return f()
    finally
        unlock(rw)
    end
end
