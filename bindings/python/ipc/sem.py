"""Semaphores: POSIX named semaphores and process-shared semaphores placed in
any shared memory (ipc/sem.h).

A named semaphore (``/name``) is the one ``sem_open("/name")`` opens in C. A
semaphore in memory sits at an offset of a :class:`ipc.SharedMemory` (or of
any writable buffer) that every user maps: one process calls
:meth:`Semaphore.init`, the others :meth:`Semaphore.attach` at the same offset.
"""

import errno
import operator
from ctypes import POINTER, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint32, c_void_p

from ._capi import IPC_OPEN_OR_CREATE, IPC_UNLINK_ON_CLOSE, encode, fn
from ._errors import call_blocking, check
from ._handle import Spin
from .shm import Placed

_create = fn("ipc_sem_create", c_int, POINTER(c_void_p), c_char_p, c_uint32, c_uint32, c_uint32)
_open = fn("ipc_sem_open", c_int, POINTER(c_void_p), c_char_p)
_init = fn("ipc_sem_init", c_int, POINTER(c_void_p), c_void_p, c_size_t, c_uint32)
_attach = fn("ipc_sem_attach", c_int, POINTER(c_void_p), c_void_p, c_size_t)
_close = fn("ipc_sem_close", c_int, c_void_p)
_post = fn("ipc_sem_post", c_int, c_void_p)
_wait = fn("ipc_sem_wait", c_int, c_void_p)
_trywait = fn("ipc_sem_trywait", c_int, c_void_p)
_timedwait = fn("ipc_sem_timedwait", c_int, c_void_p, c_double)
_value = fn("ipc_sem_value", c_int, c_void_p)
_set_spin = fn("ipc_sem_set_spin", c_int, c_void_p, c_int64)
_unlink = fn("ipc_sem_unlink", c_int, c_char_p)
_size = fn("ipc_sem_size", c_size_t)
_alignment = fn("ipc_sem_alignment", c_size_t)
_value_max = fn("ipc_sem_value_max", c_int)


def unlink(name):
    """Removes the name of a named semaphore (FileNotFoundError when there is
    none). Processes that have it open keep using it."""
    check(_unlink(encode(name)))


class Semaphore(Placed):
    """A counting semaphore shared by processes, used like threading.Semaphore.

    Make one with :meth:`create` or :meth:`open` (named) or with :meth:`init`
    or :meth:`attach` (in memory); calling the class itself is refused.

    ``with sem:`` acquires the semaphore and releases it at the end of the
    block, as with threading.Semaphore; it does not close the handle. End the
    handle with :meth:`close` (or leave it to the finaliser). Closing a
    semaphore in memory leaves the semaphore itself in place for the others.

    Blocking waits release the GIL and stay interruptible: a signal runs its
    Python handler (Ctrl-C raises KeyboardInterrupt) and the wait resumes with
    the time left.
    """

    #: Bytes a semaphore takes in memory (``ipc_sem_size()``).
    SIZE = _size()
    #: Alignment a semaphore needs in memory (``ipc_sem_alignment()``).
    ALIGNMENT = _alignment()
    #: The largest value (``ipc_sem_value_max()``, SEM_VALUE_MAX).
    VALUE_MAX = _value_max()

    _what = "a semaphore"
    _close = _close

    @classmethod
    def create(cls, name, value=0, *, mode=0o600, unlink_on_close=False, open_or_create=False):
        """Creates the named semaphore `name` (``/name``) holding `value`,
        with permission bits `mode` whatever the umask. Creation is exclusive
        (FileExistsError) unless open_or_create, which opens an existing one
        and then ignores value and mode. With unlink_on_close, closing this
        handle removes the name if it still names this semaphore."""
        flags = (IPC_UNLINK_ON_CLOSE if unlink_on_close else 0) | (IPC_OPEN_OR_CREATE if open_or_create else 0)
        return cls._named(_create, name, _count(value), operator.index(mode), flags)

    @classmethod
    def open(cls, name):
        """Opens the existing named semaphore `name` (made by libipc or by
        ``sem_open``); FileNotFoundError when there is none."""
        return cls._named(_open, name)

    @classmethod
    def init(cls, buffer_or_shm, offset=0, value=0):
        """Initialises a process-shared semaphore holding `value` at `offset`
        of a SharedMemory (or any writable buffer: bytearray, mmap, numpy
        array...), aligned to ALIGNMENT with SIZE bytes there. Do it once,
        before others attach. The memory stays alive as long as the handle."""
        return cls._placed(_init, buffer_or_shm, offset, _count(value))

    @classmethod
    def attach(cls, buffer_or_shm, offset=0):
        """A handle to the semaphore that init() (here or in another process)
        put at `offset` of this memory; OSError(EINVAL) when none is there."""
        return cls._placed(_attach, buffer_or_shm, offset)

    unlink = staticmethod(unlink)

    # threading.Semaphore's interface

    def acquire(self, blocking=True, timeout=None):
        """Takes one unit, as threading.Semaphore.acquire: True when taken,
        False when not blocking and the value is 0 or when `timeout` seconds
        ran out (None waits without limit)."""
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        handle = self._handle()
        if not blocking:
            rc = _trywait(handle)
            return rc != -errno.EAGAIN and check(rc) == 0
        try:
            call_blocking(_wait, _timedwait, handle, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def release(self, n=1):
        """Adds `n` units (one post each), as threading.Semaphore.release."""
        if n < 1:
            raise ValueError("n must be one or more")
        handle = self._handle()
        for _ in range(n):
            check(_post(handle))

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    # The C library's interface

    def post(self):
        """Adds one unit, waking one waiter; OSError(EOVERFLOW) at VALUE_MAX."""
        check(_post(self._handle()))

    def wait(self, timeout=None):
        """Takes one unit, waiting at most `timeout` seconds (None: without
        limit); TimeoutError when the time runs out."""
        call_blocking(_wait, _timedwait, self._handle(), timeout=timeout)

    def trywait(self):
        """Takes one unit if there is one; BlockingIOError otherwise."""
        check(_trywait(self._handle()))

    @property
    def value(self):
        """The current value (0 while processes wait)."""
        return check(_value(self._handle()))

    spin = Spin(_set_spin, """How long, in nanoseconds, waits through this handle poll before
        sleeping in the kernel (0, the default, sleeps at once).""")

    def _describe(self):
        return f"{super()._describe()} value={self.value}"


def _count(value):
    """A semaphore value: an int from 0 to VALUE_MAX (the library checks the top)."""
    value = operator.index(value)
    if value < 0:
        raise ValueError("a semaphore value must not be negative")
    return min(value, 0xFFFFFFFF)  # larger values stay too large for the library
