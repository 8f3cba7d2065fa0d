"""The C library, and the one table of every C function and constant the binding uses.

Every area module declares what it calls through :func:`fn` and :func:`const`,
never through ``lib.<name>`` directly, so :data:`PROTOTYPES` and
:data:`CONSTANTS` list the whole ABI surface the binding depends on. A
conformance check compares both tables with the C headers.

Type conventions (exactly as in the header): ``c_int`` for ``int``,
``c_uint32``/``c_int32``/``c_int64``/``c_uint64`` for the fixed-width types,
``c_size_t``, ``c_double``, ``c_char_p`` for ``const char *``,
``POINTER(c_char)`` for a ``char *`` buffer the function fills, ``c_void_p`` for ``void *`` and for opaque handle pointers,
``POINTER(c_void_p)`` for ``T **out``, ``ctypes.Structure`` subclasses named
after the C struct for structs, ``None`` for ``void`` results.
"""

import ctypes
import ctypes.util
import os
from ctypes import POINTER, c_char_p, c_int, c_size_t

SONAME = "libipc.so.1"

#: C function name -> (restype, [argtypes]), for every function the binding calls.
PROTOTYPES = {}
#: C constant name -> value, for every constant the binding mirrors.
CONSTANTS = {}


def _candidates():
    """Where to look for the library, in order."""
    explicit = os.environ.get("IPC_LIBRARY")
    if explicit:
        # An explicit choice is never silently replaced by another library.
        yield explicit
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, SONAME)
    try:  # written by `meson install`: the libdir the library went to
        from ._paths import LIBDIR
    except ImportError:
        pass
    else:
        yield os.path.join(LIBDIR, SONAME)
    yield SONAME  # the dynamic loader's search path and cache
    found = ctypes.util.find_library("ipc")
    if found and found != SONAME:
        yield found


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path) and path != os.environ.get("IPC_LIBRARY"):
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(str(e))
    raise ImportError(
        "ipc: cannot load libipc (set IPC_LIBRARY to the path of libipc.so.1): "
        + "; ".join(tried or ["not found"])
    )


lib, path = _load()


def fn(name, restype, *argtypes):
    """Declares the C function `name`: sets its restype and argtypes, records
    them in PROTOTYPES and returns the ctypes function."""
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    recorded = PROTOTYPES.setdefault(name, (restype, list(argtypes)))
    if recorded != (restype, list(argtypes)):
        raise TypeError(f"ipc: {name} declared twice with different prototypes")
    return function


def const(name, value):
    """Mirrors the C constant `name`; records it in CONSTANTS and returns it."""
    if CONSTANTS.setdefault(name, value) != value:
        raise ValueError(f"ipc: constant {name} mirrored twice with different values")
    return value


def encode(text, what="name"):
    """A str (UTF-8) or bytes argument for a `const char *` parameter."""
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")


def text_of(name):
    """A name as given back to Python: str, whether it was given as str or bytes."""
    return name.decode("utf-8", "replace") if isinstance(name, (bytes, bytearray)) else name


# common.h
IPC_VERSION_MAJOR = const("IPC_VERSION_MAJOR", 1)
IPC_RDONLY = const("IPC_RDONLY", 1)
IPC_UNLINK_ON_CLOSE = const("IPC_UNLINK_ON_CLOSE", 2)
IPC_OPEN_OR_CREATE = const("IPC_OPEN_OR_CREATE", 4)
IPC_WRONLY = const("IPC_WRONLY", 8)

ipc_version = fn("ipc_version", None, POINTER(c_int), POINTER(c_int), POINTER(c_int))
ipc_strerror = fn("ipc_strerror", c_char_p, c_int)
ipc_last_error = fn("ipc_last_error", c_char_p)
ipc_page_size = fn("ipc_page_size", c_size_t)


def version():
    """The loaded library's version as a (major, minor, patch) tuple."""
    parts = [c_int(), c_int(), c_int()]
    ipc_version(*(ctypes.byref(p) for p in parts))
    return tuple(p.value for p in parts)


if version()[0] != IPC_VERSION_MAJOR:
    raise ImportError(f"ipc: {path} is libipc {version()}, this binding needs major {IPC_VERSION_MAJOR}")
