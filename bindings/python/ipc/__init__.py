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
from .array import (IPC_COMPLEXF32, IPC_COMPLEXF64, IPC_FLOAT32, IPC_FLOAT64, IPC_INT8, IPC_INT16, IPC_INT32,
                    IPC_INT64, IPC_UINT8, IPC_UINT16, IPC_UINT32, IPC_UINT64, SharedArray, write_array_header)
from .array import dtype_of as array_dtype
from .array import element_size as array_element_size
from .array import eltype_of as array_eltype
from .array import header_size as array_header_size
from .shm import SharedMemory, ShmInfo
from .shm import key as shm_key
from .shm import stat as shm_stat
from .shm import unlink as shm_unlink
from .sem import Semaphore
from .sem import unlink as sem_unlink
from .mq import MessageQueue
from .mq import unlink as mq_unlink

import sys as _sys

__version__ = "%d.%d.%d" % version()


def page_size():
    """The size of a memory page in bytes."""
    return _page_size()


# Every public name imported above; modules and private names stay out.
__all__ = sorted(name for name, value in globals().items()
                 if not name.startswith("_") and not isinstance(value, type(_sys)))
