# Constants of the C headers (include/ipc/*.h), one per line in the form
# `const IPC_NAME = T(value)`: tests/conformance/check.py compares each value
# with the header, so keep that form.

# common.h: flags of the create and open functions, or-ed together.
const IPC_RDONLY = UInt32(1)
const IPC_UNLINK_ON_CLOSE = UInt32(2)
const IPC_OPEN_OR_CREATE = UInt32(4)
const IPC_WRONLY = UInt32(8)

# common.h: the version this package was written against.
const IPC_VERSION_MAJOR = Cint(1)
const IPC_VERSION_MINOR = Cint(0)

# shm.h
const IPC_ADDRESS_MAX = Int(272)
const IPC_SHM_POSIX = Int32(1)
const IPC_SHM_SYSV = Int32(2)

# array.h: element type codes (IPC.jl's), and the header layout.
const IPC_INT8 = Cint(1)
const IPC_UINT8 = Cint(2)
const IPC_INT16 = Cint(3)
const IPC_UINT16 = Cint(4)
const IPC_INT32 = Cint(5)
const IPC_UINT32 = Cint(6)
const IPC_INT64 = Cint(7)
const IPC_UINT64 = Cint(8)
const IPC_FLOAT32 = Cint(9)
const IPC_FLOAT64 = Cint(10)
const IPC_COMPLEXF32 = Cint(11)
const IPC_COMPLEXF64 = Cint(12)
const IPC_ARRAY_MAGIC = UInt32(0x57412D31)
const IPC_ARRAY_MAXDIMS = Cint(32)
const IPC_ARRAY_ALIGN = Cint(64)
