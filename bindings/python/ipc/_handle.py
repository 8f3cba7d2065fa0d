"""What every libipc object shares: ownership of one C handle, close(),
context management, a finaliser for forgotten handles, and memory export."""

import ctypes
import functools
import operator
import weakref

from ._errors import check


def _end(close, pointer):
    check(close(pointer))


class Handle:
    """Base of every libipc object.

    A subclass calls ``self._own(pointer, ipc_xxx_close)`` once the C call
    succeeded. ``close()`` ends the object; calling it again does nothing. An
    object that is never closed is closed once by a finaliser when it is
    garbage collected or at interpreter exit. Operations on a closed object
    raise ValueError, as on a closed file.

    Memory the object maps may be exported to views (memoryview, numpy). Such
    a subclass passes the ctypes object that exports it as `keeper`: the C
    handle, and with it the mapping, then lives as long as `keeper`, which
    every view references, so no view ever points at unmapped memory.
    """

    _pointer = None
    _closed = True
    _release = None
    _deferred = False

    def _own(self, pointer, close, keeper=None):
        self._pointer = pointer
        self._closed = False
        self._deferred = keeper is not None
        self._release = weakref.finalize(self if keeper is None else keeper, _end, close, pointer)
        # At exit, views of the memory may still be used by later exit code;
        # the system unmaps everything when the process ends anyway.
        self._release.atexit = not self._deferred

    @property
    def closed(self):
        """True once close() was called."""
        return self._closed

    def close(self):
        """Ends the object; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._closing()
        finally:
            if not self._deferred:
                self._release()

    def _closing(self):
        """Hook run once by close() before the handle is released."""

    def _handle(self):
        """The C handle; ValueError once closed."""
        if self._closed:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return self._pointer

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()

    def _describe(self):
        """What repr() shows of an open object."""
        return ""

    def __repr__(self):
        state = "closed" if self._closed else self._describe()
        return f"<ipc.{type(self).__name__} {state}>".replace(" >", ">")

    __hash__ = object.__hash__  # ctypes bases are unhashable


class Byte(ctypes.Union):
    """One byte. Arrays of a one-byte union export the buffer format "B";
    plain c_ubyte arrays export "<B", which memoryview can neither index nor
    assign to."""

    _fields_ = [("value", ctypes.c_ubyte)]


@functools.lru_cache(maxsize=256)
def bytes_type(size):
    """The ctypes array type of `size` bytes exporting format "B"."""
    return Byte * size


def memory_at(address, size):
    """A ctypes object exporting the `size` bytes at `address` as a writable
    buffer of format "B", shape (size,). It does not own the memory."""
    return bytes_type(size).from_address(address)


class Spin:
    """The ``spin`` property of a handle whose waits can spin, given its
    ipc_*_set_spin function: nanoseconds that waits through the handle poll
    in user space before they sleep in the kernel (0, the default, sleeps at
    once). Setting a negative time raises OSError(EINVAL)."""

    def __init__(self, set_spin, doc):
        self._set_spin = set_spin
        self.__doc__ = doc

    def __get__(self, handle, owner=None):
        if handle is None:
            return self
        handle._handle()
        return handle.__dict__.get("_spin", 0)

    def __set__(self, handle, nanoseconds):
        nanoseconds = operator.index(nanoseconds)
        check(self._set_spin(handle._handle(), nanoseconds))
        handle.__dict__["_spin"] = nanoseconds
