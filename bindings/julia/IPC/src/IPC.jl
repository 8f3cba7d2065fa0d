"""
    IPC

Inter-process communication over libipc: shared memory (POSIX named objects and
System V segments) and semaphores (named and in memory), with the names and behaviour of IPC.jl
(InterProcessCommunication.jl).

The library is `ENV["IPC_LIBRARY"]` when that is set when the package is loaded,
else `libipc.so.1` from the system's library path.
"""
module IPC

import Base.Libc.Libdl

export SharedMemory, ShmId, ShmInfo, shminfo, shminfo!, shmid, shmrm, shmcfg, TimeoutError,
    Semaphore, post, trywait

# One file per area of the C API; each later area (semaphores, arrays, signals,
# locks, message queues) is one more include here.
include("constants.jl")
include("library.jl")
include("shm.jl")
include("sem.jl")

function __init__()
    _load_library()
    for check in _layout_checks
        check()
    end
end

end # module
