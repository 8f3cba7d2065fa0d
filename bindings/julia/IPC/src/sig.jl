# Signals (include/ipc/sig.h) with IPC.jl's names: SigSet, sigprocmask,
# sigpending, sigaction/SigAction, SigInfo, sigqueue, sigwait/sigwait!,
# sigsuspend; plus names, the real-time range read at run time and the
# recording handler, which counts deliveries without running Julia code
# inside a signal handler.

"""
    IPC.SIG_BLOCK, IPC.SIG_UNBLOCK, IPC.SIG_SETMASK

How [`sigprocmask`](@ref) changes the mask: add the set, remove it, or make it the mask.
"""
const SIG_BLOCK = IPC_SIG_BLOCK
const SIG_UNBLOCK = IPC_SIG_UNBLOCK
const SIG_SETMASK = IPC_SIG_SETMASK

# Flags of an action (`SigAction(handler, mask, flags)`, `sigrecord`).
const SA_RESTART = IPC_SA_RESTART
const SA_NODEFER = IPC_SA_NODEFER
const SA_RESETHAND = IPC_SA_RESETHAND
const SA_ONSTACK = IPC_SA_ONSTACK
const SA_NOCLDSTOP = IPC_SA_NOCLDSTOP
const SA_NOCLDWAIT = IPC_SA_NOCLDWAIT
# Not a libipc flag: tells `sigaction` that the handler takes the signal's
# information, `handler(signum::Cint, info::Ptr{SigInfo}, user::Ptr{Cvoid})`.
const SA_SIGINFO = UInt32(0x8000_0000)

"""
    IPC.SIG_DFL, IPC.SIG_IGN, IPC.SIG_SAVED

Values of `SigAction.handler`: the default action, ignoring the signal, and (in an
action read by [`sigaction`](@ref)) a handler only the saved action knows, put back
exactly when the action is installed again.
"""
const SIG_DFL = Ptr{Cvoid}(0)
const SIG_IGN = Ptr{Cvoid}(1)
const SIG_SAVED = Ptr{Cvoid}(typemax(UInt))

# Standard signal numbers of Linux (the same on x86-64 and AArch64). Real-time
# signals: sigrtmin() to sigrtmax(), read at run time.
const SIGHUP = Cint(1)
const SIGINT = Cint(2)
const SIGQUIT = Cint(3)
const SIGILL = Cint(4)
const SIGTRAP = Cint(5)
const SIGABRT = Cint(6)
const SIGBUS = Cint(7)
const SIGFPE = Cint(8)
const SIGKILL = Cint(9)
const SIGUSR1 = Cint(10)
const SIGSEGV = Cint(11)
const SIGUSR2 = Cint(12)
const SIGPIPE = Cint(13)
const SIGALRM = Cint(14)
const SIGTERM = Cint(15)
const SIGCHLD = Cint(17)
const SIGCONT = Cint(18)
const SIGSTOP = Cint(19)
const SIGTSTP = Cint(20)

"""
    IPC.sigrtmin() -> Int
    IPC.sigrtmax() -> Int

The first and the last real-time signal, read from the C library at run time
(IPC.jl's constants `IPC.SIGRTMIN` and `IPC.SIGRTMAX`).
"""
sigrtmin() = Int(ccall((:ipc_sig_rtmin, library()), Cint, ()))
sigrtmax() = Int(ccall((:ipc_sig_rtmax, library()), Cint, ()))

"""
    IPC.signal_number(name) -> Int

The number of a signal from its name: `"SIGUSR1"`, `"usr1"`, `"SIGRTMIN+3"`,
`"RTMAX-1"`, or a decimal number. `ArgumentError` for an unknown name.
"""
signal_number(name::AbstractString) =
    Int(_check(ccall((:ipc_sig_number, library()), Cint, (Cstring,), String(name))))
signal_number(name::Symbol) = signal_number(String(name))

"""
    IPC.signal_name(signum) -> String

The name of a signal: `"SIGUSR1"`, `"SIGRTMIN+3"`, `"SIGRTMAX-1"`.
"""
function signal_name(signum)
    buf = Vector{UInt8}(undef, IPC_SIG_NAME_MAX)
    n = _check(ccall((:ipc_sig_name, library()), Cint, (Cint, Ptr{UInt8}, Csize_t),
                     _signo(signum), buf, length(buf)))
    return String(buf[1:n])
end

# A signal number from a number or a name.
_signo(signum::Integer) = Cint(signum)
_signo(name::Union{AbstractString,Symbol}) = Cint(signal_number(name))

"""
    SigSet()
    SigSet(signals)

A set of signals (a libipc handle, freed by `close` or the finalizer), empty or
with the given signal numbers or names. As in IPC.jl:

```julia
sigset[signum] -> Bool          # membership
sigset[signum] = true           # add (false: remove)
fill!(sigset, true)             # every valid signal (false: none)
```

It also iterates over its members in increasing order (`collect(sigset)`),
supports `in`, `length`, `copy` and `==`, and `IPC.sigaddset!`, `IPC.sigdelset!`,
`IPC.sigfillset!`, `IPC.sigemptyset!`, `IPC.sigismember`. A signal number that
is not valid (0, 32, 33, above `IPC.sigrtmax()`) is an `ArgumentError`.
"""
mutable struct SigSet
    handle::Ptr{Cvoid}  # the ipc_sigset; C_NULL once closed
    function SigSet()
        out = Ref{Ptr{Cvoid}}(C_NULL)
        _check(ccall((:ipc_sigset_new, library()), Cint, (Ref{Ptr{Cvoid}},), out))
        return finalizer(_finalize, new(out[]))
    end
    # Takes ownership of a handle made by the library.
    SigSet(handle::Ptr{Cvoid}, ::Val{:own}) = finalizer(_finalize, new(handle))
end

function SigSet(signals)
    set = SigSet()
    for signum in signals
        sigaddset!(set, signum)
    end
    return set
end

function _finalize(set::SigSet)
    handle = set.handle
    set.handle = C_NULL
    handle == C_NULL || ccall((:ipc_sigset_free, library()), Cint, (Ptr{Cvoid},), handle)
    return nothing
end

Base.close(set::SigSet) = _finalize(set)
Base.isopen(set::SigSet) = set.handle != C_NULL
Base.unsafe_convert(::Type{Ptr{Cvoid}}, set::SigSet) = set.handle

function sigemptyset!(set::SigSet)
    _check(ccall((:ipc_sigset_empty, library()), Cint, (Ptr{Cvoid},), set))
    return set
end

function sigfillset!(set::SigSet)
    _check(ccall((:ipc_sigset_fill, library()), Cint, (Ptr{Cvoid},), set))
    return set
end

function sigaddset!(set::SigSet, signum)
    _check(ccall((:ipc_sigset_add, library()), Cint, (Ptr{Cvoid}, Cint), set, _signo(signum)))
    return set
end

function sigdelset!(set::SigSet, signum)
    _check(ccall((:ipc_sigset_del, library()), Cint, (Ptr{Cvoid}, Cint), set, _signo(signum)))
    return set
end

sigismember(set::SigSet, signum) =
    _check(ccall((:ipc_sigset_has, library()), Cint, (Ptr{Cvoid}, Cint), set, _signo(signum))) == 1

Base.getindex(set::SigSet, signum) = sigismember(set, signum)
Base.setindex!(set::SigSet, val::Bool, signum) = val ? sigaddset!(set, signum) : sigdelset!(set, signum)
Base.fill!(set::SigSet, val::Bool) = val ? sigfillset!(set) : sigemptyset!(set)
Base.in(signum, set::SigSet) = sigismember(set, signum)

function Base.iterate(set::SigSet, after::Cint = Cint(0))
    next = _check(ccall((:ipc_sigset_next, library()), Cint, (Ptr{Cvoid}, Cint), set, after))
    return next == 0 ? nothing : (Int(next), Cint(next))
end
Base.IteratorSize(::Type{SigSet}) = Base.SizeUnknown()
Base.eltype(::Type{SigSet}) = Int
Base.length(set::SigSet) = count(_ -> true, set)
Base.:(==)(a::SigSet, b::SigSet) = collect(a) == collect(b)

function Base.copy(set::SigSet)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall((:ipc_sigset_copy, library()), Cint, (Ref{Ptr{Cvoid}}, Ptr{Cvoid}), out, set))
    return SigSet(out[], Val(:own))
end

function Base.show(io::IO, set::SigSet)
    if isopen(set)
        print(io, "SigSet(", repr(map(signal_name, collect(set))), ")")
    else
        print(io, "SigSet(closed)")
    end
end

"""
    sigprocmask() -> cur
    sigprocmask(how, set)

The calling thread's mask of blocked signals, as a new [`SigSet`](@ref); with
arguments, changes it: `how` is `IPC.SIG_BLOCK` (add `set`), `IPC.SIG_UNBLOCK`
(remove it) or `IPC.SIG_SETMASK` (make it the mask). `SIGKILL` and `SIGSTOP`
are silently left out.
"""
sigprocmask() = sigprocmask!(SigSet())

function sigprocmask(how::Integer, set::SigSet)
    _check(ccall((:ipc_sig_mask, library()), Cint, (Cint, Ptr{Cvoid}, Ptr{Cvoid}), how, set, C_NULL))
    return nothing
end

"""
    sigprocmask!(cur) -> cur
    sigprocmask!(how, set, old) -> old

As [`sigprocmask`](@ref), writing the mask (the previous mask) into an existing set.
"""
function sigprocmask!(cur::SigSet)
    _check(ccall((:ipc_sig_mask, library()), Cint, (Cint, Ptr{Cvoid}, Ptr{Cvoid}),
                 SIG_BLOCK, C_NULL, cur))
    return cur
end

function sigprocmask!(how::Integer, set::SigSet, old::SigSet)
    _check(ccall((:ipc_sig_mask, library()), Cint, (Cint, Ptr{Cvoid}, Ptr{Cvoid}), how, set, old))
    return old
end

"""
    sigpending() -> mask
    sigpending!(mask) -> mask

The signals blocked and waiting to be delivered, in a new or the given [`SigSet`](@ref).
"""
sigpending() = sigpending!(SigSet())

function sigpending!(mask::SigSet)
    _check(ccall((:ipc_sig_pending, library()), Cint, (Ptr{Cvoid},), mask))
    return mask
end

"""
    SigInfo()

What is known of one delivered signal, filled by [`sigwait!`](@ref) and
[`IPC.sigrecorded_info`](@ref): the fields `signo`, `code` (`si_code`: 0 for
`kill`, -1 for `sigqueue`), `errno`, `pid` and `uid` (the sender's), `status`,
`value` (the 64-bit value of [`sigqueue`](@ref)) and `addr`. IPC.jl's accessors
`IPC.siginfo_signo(info)`, ... `IPC.siginfo_addr(info)` read them too.
"""
# mirrors ipc_siginfo
mutable struct SigInfo
    signo::Int32
    code::Int32
    errno::Int32
    pid::Int32
    uid::UInt32
    status::Int32
    value::Int64
    addr::UInt64
    SigInfo() = new(0, 0, 0, 0, 0, 0, 0, 0)
end

push!(_layout_checks, function ()
    want = ccall((:ipc_siginfo_size, library()), Csize_t, ())
    want == sizeof(SigInfo) ||
        error("IPC: ipc_siginfo has $want bytes in $(library()), SigInfo has $(sizeof(SigInfo))")
end)

for field in (:signo, :code, :errno, :pid, :uid, :status, :value, :addr)
    @eval $(Symbol(:siginfo_, field))(info::SigInfo) = getfield(info, $(QuoteNode(field)))
end

Base.show(io::IO, info::SigInfo) =
    print(io, "SigInfo(signo=", info.signo, ", code=", info.code, ", pid=", info.pid,
          ", uid=", info.uid, ", value=", info.value, ")")

"""
    sigqueue(pid, sig, val=0)

Sends signal `sig` (a number or a name) to process `pid` with the 64-bit value
`val`, which the receiver finds in `SigInfo.value` with this process's pid and
uid. Real-time signals queue: each one sent is delivered.
"""
function sigqueue(pid::Integer, sig, val::Integer = 0)
    _check(ccall((:ipc_sig_queue, library()), Cint, (Cint, Cint, Int64), pid, _signo(sig), val))
    return nothing
end

"""
    IPC.sigsend(pid, sig)
    IPC.sigraise(sig)

Sends a signal to a process (`kill`; 0 and negative `pid` address process
groups), or to the calling thread.
"""
function sigsend(pid::Integer, sig)
    _check(ccall((:ipc_sig_send, library()), Cint, (Cint, Cint), pid, _signo(sig)))
    return nothing
end

function sigraise(sig)
    _check(ccall((:ipc_sig_raise, library()), Cint, (Cint,), _signo(sig)))
    return nothing
end

"""
    sigwait(mask, timeout=Inf) -> signum

Waits until a signal of `mask` (a [`SigSet`](@ref) of blocked signals) is
pending, takes it and returns its number. With a `timeout` in seconds, throws
`TimeoutError` when none came in time; a timeout of 0 or less polls, NaN is an
`ArgumentError`. A signal handler running meanwhile resumes the wait with the
time left (a Ctrl-C throws `InterruptException`).
"""
sigwait(mask::SigSet, timeout::Real = Inf) = sigwait!(mask, SigInfo(), timeout)

"""
    sigwait!(mask, info, timeout=Inf) -> signum

As [`sigwait`](@ref), also filling `info`, a [`SigInfo`](@ref).
"""
function sigwait!(mask::SigSet, info::SigInfo, timeout::Real = Inf)
    seconds = isnan(timeout) ? Float64(timeout) : max(Float64(timeout), 0.0)  # IPC.jl: ≤ 0 polls
    seconds == Inf &&
        return Cint(_waiting(() -> ccall((:ipc_sig_wait, library()), Cint, (Ptr{Cvoid}, Ref{SigInfo}), mask, info)))
    return Cint(_waiting(seconds) do s
        ccall((:ipc_sig_timedwait, library()), Cint, (Ptr{Cvoid}, Cdouble, Ref{SigInfo}), mask, s, info)
    end)
end

"""
    IPC.sigtrywait!(mask, info=SigInfo()) -> signum or nothing

Takes a pending signal of `mask` without waiting; `nothing` when none is pending.
"""
function sigtrywait!(mask::SigSet, info::SigInfo = SigInfo())
    rc = ccall((:ipc_sig_trywait, library()), Cint, (Ptr{Cvoid}, Ref{SigInfo}), mask, info)
    rc == -Libc.EAGAIN && return nothing
    return Cint(_check(rc))
end

"""
    sigsuspend(mask)

Replaces the thread's mask by `mask` until a signal whose action is a handler
(such as the recording handler of [`IPC.sigrecord`](@ref)) arrives and the handler
has run, then restores the mask. The race-free pattern: block the signal,
check the condition, then suspend with a mask that lets the signal in.
"""
function sigsuspend(mask::SigSet)
    rc = ccall((:ipc_sig_suspend, library()), Cint, (Ptr{Cvoid},), mask)
    rc == -Libc.EINTR || _check(rc)  # -EINTR is its normal return
    GC.safepoint()                   # a pending Ctrl-C throws here
    return nothing
end

"""
    SigAction()
    SigAction(handler, mask, flags)

An action taken on receipt of a signal, as in IPC.jl: `handler` is `IPC.SIG_DFL`,
`IPC.SIG_IGN` or the address of a C function (`@cfunction`) called as
`handler(signum::Cint, user::Ptr{Cvoid})`, or with `IPC.SA_SIGINFO` in `flags` as
`handler(signum::Cint, info::Ptr{SigInfo}, user::Ptr{Cvoid})`; it runs inside the
signal handler, so it must only call async-signal-safe functions. `mask` (a
[`SigSet`](@ref)) is blocked while it runs; `flags` are `IPC.SA_RESTART` ... or-ed.

An action read by [`sigaction`](@ref) also keeps the action itself: its
`handler` is `IPC.SIG_DFL`, `IPC.SIG_IGN` or `IPC.SIG_SAVED` (a handler installed
by libipc or by someone else, such as the Julia runtime), and installing it again
puts that action back exactly. `IPC.sigaction_kind(act)` tells which.
"""
mutable struct SigAction
    handler::Ptr{Cvoid}
    mask::SigSet
    flags::UInt32
    saved::Ptr{Cvoid}  # the ipc_sigaction holding a read action, or C_NULL
    function SigAction(handler::Ptr{Cvoid}, mask::SigSet, flags::Integer)
        return finalizer(_finalize, new(handler, mask, flags, C_NULL))
    end
end

SigAction() = SigAction(SIG_DFL, SigSet(), 0)

function _finalize(act::SigAction)
    saved = act.saved
    act.saved = C_NULL
    saved == C_NULL || ccall((:ipc_sigaction_free, library()), Cint, (Ptr{Cvoid},), saved)
    return nothing
end

# The handle an action is read into; made on first use.
function _saved(act::SigAction)
    if act.saved == C_NULL
        out = Ref{Ptr{Cvoid}}(C_NULL)
        _check(ccall((:ipc_sigaction_new, library()), Cint, (Ref{Ptr{Cvoid}},), out))
        act.saved = out[]
    end
    return act.saved
end

const _KINDS = Dict(IPC_SIG_ACTION_DEFAULT => :default, IPC_SIG_ACTION_IGNORE => :ignore,
                    IPC_SIG_ACTION_HANDLER => :handler, IPC_SIG_ACTION_INFO => :info,
                    IPC_SIG_ACTION_RECORD => :record, IPC_SIG_ACTION_FOREIGN => :foreign)

"""
    IPC.sigaction_kind(act) -> Symbol

What an action read by [`sigaction`](@ref) does: `:default`, `:ignore`, `:handler` or
`:info` (a C function installed through this package), `:record` (the recording
handler), `:foreign` (installed without libipc, such as by the Julia runtime).
"""
sigaction_kind(act::SigAction) =
    _KINDS[Cint(_check(ccall((:ipc_sigaction_kind, library()), Cint, (Ptr{Cvoid},), _saved(act))))]

# Fills the fields of `act` from its saved action.
function _refresh!(act::SigAction)
    kind = sigaction_kind(act)
    act.handler = kind === :default ? SIG_DFL : kind === :ignore ? SIG_IGN : SIG_SAVED
    act.flags = _check(ccall((:ipc_sigaction_flags, library()), Cint, (Ptr{Cvoid},), act.saved))
    _check(ccall((:ipc_sigaction_mask, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}), act.saved, act.mask))
    return act
end

"""
    sigaction(signum) -> sigact
    sigaction(signum, sigact)

The current action of signal `signum`, as a [`SigAction`](@ref); or installs
`sigact` as its action (`signum` cannot be `SIGKILL` nor `SIGSTOP`).
"""
function sigaction(signum)
    act = SigAction()
    _check(ccall((:ipc_sig_action, library()), Cint, (Cint, Ptr{Cvoid}), _signo(signum), _saved(act)))
    return _refresh!(act)
end

function sigaction(signum, sigact::SigAction)
    _install(_signo(signum), sigact, C_NULL)
    return nothing
end

"""
    sigaction!(signum, sigact, oldact) -> oldact

Installs `sigact` as the action of `signum` and writes the action it replaced into
`oldact`, which can be installed again later to restore it.
"""
function sigaction!(signum, sigact::SigAction, old::SigAction)
    _install(_signo(signum), sigact, _saved(old))
    return _refresh!(old)
end

function _install(signum::Cint, act::SigAction, old::Ptr{Cvoid})
    if act.handler == SIG_SAVED
        act.saved == C_NULL && throw(ArgumentError("SIG_SAVED is only valid in an action read by sigaction"))
        rc = ccall((:ipc_sig_restore, library()), Cint, (Cint, Ptr{Cvoid}, Ptr{Cvoid}), signum, act.saved, old)
    elseif act.handler == SIG_DFL
        rc = ccall((:ipc_sig_default, library()), Cint, (Cint, Ptr{Cvoid}), signum, old)
    elseif act.handler == SIG_IGN
        rc = ccall((:ipc_sig_ignore, library()), Cint, (Cint, Ptr{Cvoid}), signum, old)
    elseif act.flags & SA_SIGINFO != 0
        rc = ccall((:ipc_sig_handle_info, library()), Cint,
                   (Cint, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, UInt32, Ptr{Cvoid}),
                   signum, act.handler, C_NULL, act.mask, act.flags & ~SA_SIGINFO, old)
    else
        rc = ccall((:ipc_sig_handle, library()), Cint,
                   (Cint, Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, UInt32, Ptr{Cvoid}),
                   signum, act.handler, C_NULL, act.mask, act.flags, old)
    end
    _check(rc)
    return nothing
end

function Base.show(io::IO, act::SigAction)
    names = Dict(SIG_DFL => "SIG_DFL", SIG_IGN => "SIG_IGN", SIG_SAVED => "SIG_SAVED")
    handler = get(names, act.handler, repr(act.handler))
    print(io, "SigAction(handler=", handler, ", mask=", act.mask, ", flags=0x", string(act.flags, base = 16), ")")
end

"""
    IPC.sigrecord(signum; flags=0) -> oldact

Installs libipc's recording handler for `signum`, which counts each delivery and
keeps its [`SigInfo`](@ref) without running Julia code inside the handler; read
them with [`IPC.sigrecorded`](@ref) and [`IPC.sigrecorded_info`](@ref). Returns the
action replaced, to install again later with `sigaction(signum, oldact)`.
"""
function sigrecord(signum; flags::Integer = 0)
    old = SigAction()
    _check(ccall((:ipc_sig_record, library()), Cint, (Cint, UInt32, Ptr{Cvoid}),
                 _signo(signum), flags, _saved(old)))
    return _refresh!(old)
end

"""
    IPC.sigrecorded(signum) -> Int
    IPC.sigrecorded_info(signum) -> SigInfo or nothing
    IPC.sigrecord_reset(signum) -> Int

How many times the recording handler ran for `signum` (real-time signals are all
counted, standard ones merge while pending); the information of the latest
delivery (`nothing` when none since the last reset); and a reset that returns the
count before it (no delivery is lost between the two).
"""
sigrecorded(signum) = Int(_check(ccall((:ipc_sig_recorded, library()), Int64, (Cint,), _signo(signum))))

function sigrecorded_info(signum)
    info = SigInfo()
    rc = _check(ccall((:ipc_sig_recorded_info, library()), Cint, (Cint, Ref{SigInfo}), _signo(signum), info))
    return rc == 0 ? nothing : info
end

sigrecord_reset(signum) =
    Int(_check(ccall((:ipc_sig_record_reset, library()), Int64, (Cint,), _signo(signum))))

"""
    IPC.signalfd(mask; nonblock=false) -> Cint
    IPC.read_signalfd(fd, info=SigInfo()) -> signum

A descriptor that becomes readable while a signal of `mask` (blocked) is pending,
for `FileWatching.poll_fd(RawFD(fd), ...)`; close-on-exec, close it with
`ccall(:close, Cint, (Cint,), fd)`. Reading takes one signal and fills `info`;
non-blocking and empty is a `SystemError` with `EAGAIN`.
"""
signalfd(mask::SigSet; nonblock::Bool = false) =
    Cint(_check(ccall((:ipc_sig_fd, library()), Cint, (Ptr{Cvoid}, UInt32), mask,
                      nonblock ? IPC_SIG_FD_NONBLOCK : UInt32(0))))

read_signalfd(fd::Integer, info::SigInfo = SigInfo()) =
    Cint(_waiting(() -> ccall((:ipc_sig_fd_read, library()), Cint, (Cint, Ref{SigInfo}), fd, info)))
