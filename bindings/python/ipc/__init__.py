"""libipc for Python: inter-process communication over ctypes.

The C library is found through the IPC_LIBRARY environment variable, then
next to this package, then where ``meson install`` put it, then the system.
Errors are OSError subclasses carrying the library's message (see
:func:`ipc._errors.check`).
"""

from ._capi import IPC_OPEN_OR_CREATE, IPC_RDONLY, IPC_UNLINK_ON_CLOSE, IPC_WRONLY, version
from ._capi import ipc_page_size as _page_size
from ._capi import path as library_path
from ._errors import OwnerDeadError, last_error
from ._handle import Handle
from .shm import SharedMemory, ShmInfo
from .shm import key as shm_key
from .shm import stat as shm_stat
from .shm import unlink as shm_unlink
from .sem import Semaphore
from .sem import unlink as sem_unlink

__version__ = "%d.%d.%d" % version()


def page_size():
    """The size of a memory page in bytes."""
    return _page_size()


__all__ = [
    "IPC_OPEN_OR_CREATE", "IPC_RDONLY", "IPC_UNLINK_ON_CLOSE", "IPC_WRONLY",
    "Handle", "OwnerDeadError", "Semaphore", "SharedMemory", "ShmInfo",
    "last_error", "library_path", "page_size", "sem_unlink", "shm_key", "shm_stat", "shm_unlink", "version",
]
