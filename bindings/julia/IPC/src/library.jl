# Locating libipc, and turning its return codes into Julia exceptions.

const _library = Ref{String}("")

# Functions run by __init__ once the library is loaded, each checking that a
# struct mirrored in Julia has the size the library reports.
const _layout_checks = Function[]

"""
    IPC.library() -> String

The path of the libipc shared object in use: `ENV["IPC_LIBRARY"]` when it was
set when the package was loaded, else `libipc.so.1` found on the system's
library path.
"""
library() = _library[]

function _load_library()
    name = get(ENV, "IPC_LIBRARY", "")
    isempty(name) && (name = "libipc.so.1")
    handle = try
        Libdl.dlopen(name, Libdl.RTLD_NOW)
    catch err
        error("IPC: cannot load libipc from ", repr(name), " (set ENV[\"IPC_LIBRARY\"] to the ",
              "path of libipc.so.1 before loading the package): ", sprint(showerror, err))
    end
    # Every ccall names the library by this path, so all of them reach the
    # object loaded here.
    _library[] = Libdl.dlpath(handle)
    major, minor = version()
    if major != IPC_VERSION_MAJOR || minor < IPC_VERSION_MINOR
        error("IPC: ", _library[], " is libipc ", major, ".", minor, "; this package needs ",
              IPC_VERSION_MAJOR, ".", IPC_VERSION_MINOR, " or a later ", IPC_VERSION_MAJOR, ".x")
    end
    return nothing
end

"""
    IPC.version() -> (major, minor, patch)

The version of the loaded libipc.
"""
function version()
    major, minor, patch = Ref{Cint}(0), Ref{Cint}(0), Ref{Cint}(0)
    ccall((:ipc_version, library()), Cvoid, (Ref{Cint}, Ref{Cint}, Ref{Cint}), major, minor, patch)
    return (Int(major[]), Int(minor[]), Int(patch[]))
end

"""
    IPC.page_size() -> Int

The size of a memory page, in bytes.
"""
page_size() = Int(ccall((:ipc_page_size, library()), Csize_t, ()))

"""
    IPC.strerror(code) -> String

The name libipc gives to an error code (negated `errno`, the sign is ignored).
"""
strerror(code::Integer) = unsafe_string(ccall((:ipc_strerror, library()), Cstring, (Cint,), code))

"""
    IPC.last_error() -> String

The message of this thread's most recent libipc failure, with its context.
"""
last_error() = unsafe_string(ccall((:ipc_last_error, library()), Cstring, ()))

"""
    TimeoutError(msg = "timed out")

Thrown when a timed operation runs out of time, as in IPC.jl.
"""
struct TimeoutError <: Exception
    msg::String
end
TimeoutError() = TimeoutError("timed out")
Base.showerror(io::IO, e::TimeoutError) = print(io, "TimeoutError: ", e.msg)

# The exception for a negative return code `rc` of the call just made on this
# thread: `TimeoutError` for -ETIMEDOUT, `ArgumentError` for -EINVAL (a bad
# address, size, mode or flag), else `SystemError` with the library's context
# and the errno value.
function _exception(rc::Integer)
    code = -Int(rc)
    msg = last_error()
    code == Libc.ETIMEDOUT && return TimeoutError(msg)
    code == Libc.EINVAL && return ArgumentError(msg)
    # SystemError appends the errno text itself: do not repeat it.
    suffix = ": " * strerror(code)
    prefix = endswith(msg, suffix) ? String(chop(msg; tail = length(suffix))) : msg
    return SystemError(prefix, code)
end

# Returns a non-negative result, throws for a negative one.
_check(rc::Integer) = rc < 0 ? throw(_exception(rc)) : rc

# Runs a blocking call to completion and returns its non-negative result:
# `call()` without a timeout, `call(seconds)` with one. A return of -EINTR means
# a signal handler interrupted the wait, as when Julia's runtime delivers a
# Ctrl-C: the safepoint throws the pending `InterruptException` (what IPC.jl
# threw on EINTR), otherwise the call resumes with the time left, measured on
# the monotonic clock of `time_ns()`. Other failures throw as `_check` does.
function _waiting(call::Function, seconds::Union{Float64,Nothing} = nothing)
    start = time_ns()
    while true
        rc = seconds === nothing ? call() : call(seconds)
        rc == -Libc.EINTR || return _check(rc)
        GC.safepoint()
        if seconds !== nothing
            # The library already rejected NaN and negative timeouts; 0 polls once.
            elapsed = (time_ns() - start) / 1e9
            seconds = max(0.0, seconds - elapsed)
            start = time_ns()
        end
    end
end
