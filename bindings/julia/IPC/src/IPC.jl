"""
    IPC

Inter-process communication over libipc: shared memory (POSIX named objects and
System V segments), semaphores (named and in memory), shared arrays, locks and signals, with
the names and behaviour of IPC.jl (InterProcessCommunication.jl), and POSIX message queues,
which IPC.jl did not have.

The library is `ENV["IPC_LIBRARY"]` when that is set when the package is loaded,
else `libipc.so.1` from the system's library path.
"""
module IPC

import Base.Libc.Libdl

export SharedMemory, ShmId, ShmInfo, shminfo, shminfo!, shmid, shmrm, shmcfg, TimeoutError
export Semaphore, post, trywait
export WrappedArray, WrappedVector, WrappedMatrix, WrappedArrayHeader, ShmArray, ShmVector, ShmMatrix
export MessageQueue, send, trysend, receive, receive!, tryreceive

# One file per area of the C API; each later area (semaphores, arrays, signals,
# locks, message queues) is one more include here.
include("constants.jl")
include("library.jl")
include("shm.jl")
include("sem.jl")
include("array.jl")
include("mq.jl")

function __init__()
    _load_library()
    for check in _layout_checks
        check()
    end
end

end # module
