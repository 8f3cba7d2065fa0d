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

# sync.h
const IPC_SYNC_ALIGN = Int(8)
const IPC_RWLOCK_PREFER_WRITER = UInt32(0x100)
