# POSIX message queues (include/ipc/mq.h): an addition beyond IPC.jl, which had none.

"""
    MessageQueue(name; capacity = 0, msgsize = 0, perms = 0o600, volatile = true)  # creates
    MessageQueue(name; readonly = false, writeonly = false, volatile = false)      # opens

A POSIX message queue `"/name"`: whole messages of at most `msgsize(q)` bytes,
each with a priority, at most `capacity(q)` of them queued.

It is created when `capacity` or `msgsize` is given (0 asks for the system
default, `/proc/sys/fs/mqueue/msg_default` and `msgsize_default`), opened
otherwise. Creation is exclusive (`SystemError` with `EEXIST` when it exists)
and opens the queue for sending and receiving; `perms` are the permission bits
(owner read and write always kept, the umask does not apply). Opening takes
`readonly = true` (receive only) or `writeonly = true` (send only). A
`volatile` queue's name is removed when this handle is closed or finalized
(the default when creating, as for `SharedMemory`).

`send(q, data)` and `receive(q)` wait while the queue is full or empty;
`trysend`/`tryreceive` do not wait; `timeout = secs` bounds the wait.
`length(q)` is the number of queued messages and `fd(q)` the descriptor to poll.
`close(q)` frees the handle now (the finalizer does it otherwise).
"""
mutable struct MessageQueue
    handle::Ptr{Cvoid}  # the ipc_mq handle; C_NULL once closed
    name::String
    capacity::Int       # both fixed for the queue's lifetime
    msgsize::Int
    function MessageQueue(handle::Ptr{Cvoid}, name::String)
        q = finalizer(_finalize, new(handle, name, 0, 0))
        q.capacity = Int(_check(ccall((:ipc_mq_capacity, library()), Int64, (Ptr{Cvoid},), handle)))
        q.msgsize = Int(_check(ccall((:ipc_mq_msgsize, library()), Int64, (Ptr{Cvoid},), handle)))
        return q
    end
end

# Finalizers must not throw: a failure here has nobody to report to.
function _finalize(q::MessageQueue)
    handle = q.handle
    q.handle = C_NULL
    handle == C_NULL || ccall((:ipc_mq_close, library()), Cint, (Ptr{Cvoid},), handle)
    return nothing
end

function MessageQueue(name::AbstractString; capacity::Union{Integer,Nothing} = nothing,
                      msgsize::Union{Integer,Nothing} = nothing, perms::Union{Integer,Nothing} = nothing,
                      volatile::Union{Bool,Nothing} = nothing, readonly::Bool = false, writeonly::Bool = false)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    if capacity !== nothing || msgsize !== nothing
        (readonly || writeonly) &&
            throw(ArgumentError("a new queue is opened for sending and receiving; open it again with readonly or writeonly"))
        capacity = something(capacity, 0)
        msgsize = something(msgsize, 0)
        capacity ≥ 0 || throw(ArgumentError("capacity must be nonnegative ($capacity)"))
        msgsize ≥ 0 || throw(ArgumentError("msgsize must be nonnegative ($msgsize)"))
        mode = something(perms, 0o600)
        0 ≤ mode ≤ 0o777 ||
            throw(ArgumentError("bad permissions 0o$(string(mode, base = 8)): must be within 0o777"))
        flags = something(volatile, true) ? IPC_UNLINK_ON_CLOSE : UInt32(0)
        _check(ccall((:ipc_mq_create, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, Int64, Int64, UInt32, UInt32),
                     out, name, capacity, msgsize, mode, flags))
    else
        perms === nothing ||
            throw(ArgumentError("perms are given when creating (with capacity or msgsize), not when opening"))
        readonly && writeonly && throw(ArgumentError("a queue cannot be both readonly and writeonly"))
        flags = (readonly ? IPC_RDONLY : UInt32(0)) | (writeonly ? IPC_WRONLY : UInt32(0)) |
                (something(volatile, false) ? IPC_UNLINK_ON_CLOSE : UInt32(0))
        _check(ccall((:ipc_mq_open, library()), Cint, (Ptr{Ptr{Cvoid}}, Cstring, UInt32), out, name, flags))
    end
    return MessageQueue(out[], String(name))
end

Base.unsafe_convert(::Type{Ptr{Cvoid}}, q::MessageQueue) = q.handle
Base.isopen(q::MessageQueue) = q.handle != C_NULL

"""
    close(q::MessageQueue)

Frees the handle now; a volatile queue loses its name. The queue and its
messages stay for the other processes that have it open. Closing again does
nothing.
"""
function Base.close(q::MessageQueue)
    handle = q.handle
    q.handle = C_NULL
    handle == C_NULL || _check(ccall((:ipc_mq_close, library()), Cint, (Ptr{Cvoid},), handle))
    return nothing
end

"""
    rm(MessageQueue, name)
    rm(q::MessageQueue)

Removes the name of a message queue; processes that have it open keep using
it. Removing a name that does not exist does nothing, as for `SharedMemory`.
"""
function Base.rm(::Type{MessageQueue}, name::AbstractString)
    rc = ccall((:ipc_mq_unlink, library()), Cint, (Cstring,), name)
    rc == -Libc.ENOENT || _check(rc)
    return nothing
end

Base.rm(q::MessageQueue) = rm(MessageQueue, q.name)

"""
    IPC.capacity(q::MessageQueue) -> Int

The number of messages the queue holds at most.
"""
capacity(q::MessageQueue) = q.capacity

"""
    IPC.msgsize(q::MessageQueue) -> Int

The largest message in bytes; also the smallest buffer [`receive!`](@ref) takes.
"""
msgsize(q::MessageQueue) = q.msgsize

"""
    length(q::MessageQueue) -> Int

The number of messages queued now; other processes may change it at any time.
"""
Base.length(q::MessageQueue) = Int(_check(ccall((:ipc_mq_count, library()), Int64, (Ptr{Cvoid},), q)))
Base.isempty(q::MessageQueue) = length(q) == 0

"""
    fd(q::MessageQueue) -> RawFD

The queue's descriptor, readable when a message is queued and writable when
there is room: `FileWatching.poll_fd(fd(q), secs; readable = true)`. The handle
keeps it: do not close it or change its flags.
"""
Base.fd(q::MessageQueue) = RawFD(_check(ccall((:ipc_mq_fd, library()), Cint, (Ptr{Cvoid},), q)))

"""
    IPC.mq_priority_max() -> Int

The highest message priority (32767 on Linux); 0 is the lowest.
"""
mq_priority_max() = Int(ccall((:ipc_mq_priority_max, library()), UInt32, ()))

function Base.show(io::IO, q::MessageQueue)
    print(io, "MessageQueue(", repr(q.name))
    if isopen(q)
        print(io, ", ", length(q), "/", q.capacity, " messages of ≤ ", q.msgsize, " bytes)")
    else
        print(io, ", closed)")
    end
end

# A message: the bytes of a string, or of a dense array of plain values.
_message(data::String) = data
_message(data::AbstractString) = String(data)
function _message(data::DenseArray{T}) where {T}
    isbitstype(T) || throw(ArgumentError("a message is bytes: an array of $T cannot be sent"))
    return data
end

function _priority(priority::Integer)
    0 ≤ priority ≤ typemax(UInt32) ||
        throw(ArgumentError("priority $priority is outside 0 to $(mq_priority_max())"))
    return UInt32(priority)
end

"""
    send(q::MessageQueue, data; priority = 0, timeout = nothing)

Sends the bytes of `data` (a string or a dense array of plain values, at most
`msgsize(q)` bytes: `SystemError` with `EMSGSIZE` otherwise) with `priority`
(0 to `IPC.mq_priority_max()`), waiting while the queue is full: without
limit, or at most `timeout` seconds ([`TimeoutError`](@ref IPC.TimeoutError);
`0` polls, `Inf` waits without limit). A signal that interrupts the wait is
handled by Julia (a pending Ctrl-C throws `InterruptException`), then the wait
resumes with the time left.
"""
function send(q::MessageQueue, data; priority::Integer = 0, timeout::Union{Real,Nothing} = nothing)
    msg = _message(data)
    prio = _priority(priority)
    GC.@preserve msg begin
        ptr, len = Ptr{Cvoid}(pointer(msg)), sizeof(msg)
        if timeout === nothing
            _waiting(() -> ccall((:ipc_mq_send, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, UInt32),
                                 q, ptr, len, prio))
        else
            _waiting(Float64(timeout)) do seconds
                ccall((:ipc_mq_timedsend, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, UInt32, Cdouble),
                      q, ptr, len, prio, seconds)
            end
        end
    end
    return nothing
end

"""
    trysend(q::MessageQueue, data; priority = 0) -> Bool

Sends `data` as [`send`](@ref) does if the queue has room and returns `true`;
returns `false` at once when it is full.
"""
function trysend(q::MessageQueue, data; priority::Integer = 0)
    msg = _message(data)
    prio = _priority(priority)
    rc = GC.@preserve msg ccall((:ipc_mq_trysend, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, UInt32),
                                q, Ptr{Cvoid}(pointer(msg)), sizeof(msg), prio)
    rc == -Libc.EAGAIN && return false
    _check(rc)
    return true
end

# The receive buffer: a dense array of plain values, whose bytes take the message.
function _buffer(buf::DenseArray{T}) where {T}
    isbitstype(T) || throw(ArgumentError("a receive buffer holds bytes, not $T values"))
    return buf
end

"""
    receive!(q::MessageQueue, buf; timeout = nothing) -> (nbytes, priority)

Takes the oldest message of the highest priority into the bytes of `buf` (a
dense array of at least `msgsize(q)` bytes, as the system requires even for
shorter messages: `SystemError` with `EMSGSIZE` otherwise) and returns its
length and priority; `buf` is not resized and nothing is allocated. Waits while
the queue is empty as [`send`](@ref) waits while it is full.
"""
function receive!(q::MessageQueue, buf; timeout::Union{Real,Nothing} = nothing)
    target = _buffer(buf)
    prio = Ref{UInt32}(0)
    n = GC.@preserve target begin
        ptr, cap = Ptr{Cvoid}(pointer(target)), sizeof(target)
        if timeout === nothing
            _waiting(() -> ccall((:ipc_mq_receive, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{UInt32}),
                                 q, ptr, cap, prio))
        else
            _waiting(Float64(timeout)) do seconds
                ccall((:ipc_mq_timedreceive, library()), Cint,
                      (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{UInt32}, Cdouble), q, ptr, cap, prio, seconds)
            end
        end
    end
    return (Int(n), Int(prio[]))
end

"""
    receive(q::MessageQueue; timeout = nothing) -> (Vector{UInt8}, priority)

Takes the oldest message of the highest priority, waiting as
[`receive!`](@ref) does, and returns its bytes (`String(data)` makes text of
them) and its priority.
"""
function receive(q::MessageQueue; timeout::Union{Real,Nothing} = nothing)
    buf = Vector{UInt8}(undef, q.msgsize)
    n, priority = receive!(q, buf; timeout = timeout)
    return (resize!(buf, n), priority)
end

"""
    tryreceive(q::MessageQueue) -> Union{Tuple{Vector{UInt8},Int},Nothing}

Takes a message as [`receive`](@ref) does if one is queued; returns `nothing`
at once when the queue is empty.
"""
function tryreceive(q::MessageQueue)
    buf = Vector{UInt8}(undef, q.msgsize)
    prio = Ref{UInt32}(0)
    n = ccall((:ipc_mq_tryreceive, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{UInt32}),
              q, buf, sizeof(buf), prio)
    n == -Libc.EAGAIN && return nothing
    return (resize!(buf, _check(n)), Int(prio[]))
end
