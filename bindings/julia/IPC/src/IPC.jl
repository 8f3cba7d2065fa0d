"""
    IPC

Inter-process communication over libipc: shared memory (POSIX named objects and
System V segments), with the names and behaviour of IPC.jl
(InterProcessCommunication.jl).

The library is `ENV["IPC_LIBRARY"]` when that is set when the package is loaded,
else `libipc.so.1` from the system's library path.
"""
module IPC

import Base.Libc.Libdl

export SharedMemory, ShmId, ShmInfo, shminfo, shminfo!, shmid, shmrm, shmcfg, TimeoutError
export signal, timedlock  # IPC.Mutex, IPC.Condition, IPC.RWLock stay qualified, as in IPC.jl

# One file per area of the C API; each later area (semaphores, arrays, signals,
# locks, message queues) is one more include here.
include("constants.jl")
include("library.jl")
include("shm.jl")
include("sync.jl")

function __init__()
    _load_library()
    for check in _layout_checks
        check()
    end
end

end # module
