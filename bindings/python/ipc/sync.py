"""Locks shared by processes: robust mutexes, condition variables and
read/write locks (ipc/sync.h).

Each lock is either named (``/name``: :meth:`create`, :meth:`open`,
:meth:`unlink`) or sits at an offset of memory that every user maps (a
:class:`ipc.SharedMemory` or any writable buffer): one process calls
:meth:`init`, the others :meth:`attach` at the same offset.

Lock waits never block for more than a short slice in C: between slices
Python runs the handlers of signals that arrived (a Ctrl-C raises
KeyboardInterrupt), since the pthread waits underneath do not end when a
signal comes. A condition wait also ends, as a spurious wake-up, when a
signal arrives.
"""

import contextlib
import errno
import math
import numbers
import operator
import time
from ctypes import POINTER, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint32, c_void_p

from ._capi import IPC_OPEN_OR_CREATE, IPC_UNLINK_ON_CLOSE, const, encode, fn
from ._errors import check
from ._handle import Spin
from .shm import Placed

IPC_SYNC_ALIGN = const("IPC_SYNC_ALIGN", 8)
IPC_RWLOCK_PREFER_WRITER = const("IPC_RWLOCK_PREFER_WRITER", 0x100)

# The longest a wait stays in C before Python may run its signal handlers.
# Waking then costs one system call, and a lock released meanwhile is taken
# at once: the slice only bounds how late a handler runs.
_SLICE = 0.1


def _functions(kind):
    """The C functions every kind of lock has, declared once each."""
    return {
        "size": fn(f"ipc_{kind}_size", c_size_t),
        "init": fn(f"ipc_{kind}_init", c_int, POINTER(c_void_p), c_void_p, c_size_t, c_uint32),
        "attach": fn(f"ipc_{kind}_attach", c_int, POINTER(c_void_p), c_void_p, c_size_t),
        "create": fn(f"ipc_{kind}_create", c_int, POINTER(c_void_p), c_char_p, c_uint32, c_uint32),
        "open": fn(f"ipc_{kind}_open", c_int, POINTER(c_void_p), c_char_p),
        "close": fn(f"ipc_{kind}_close", c_int, c_void_p),
        "unlink": fn(f"ipc_{kind}_unlink", c_int, c_char_p),
    }


_MUTEX, _COND, _RWLOCK = _functions("mutex"), _functions("cond"), _functions("rwlock")

# The untimed waits are declared so the whole C API is reachable, but waits
# go through the timed forms, in slices (see _take).
_lock = fn("ipc_mutex_lock", c_int, c_void_p)
_trylock = fn("ipc_mutex_trylock", c_int, c_void_p)
_timedlock = fn("ipc_mutex_timedlock", c_int, c_void_p, c_double)
_unlock = fn("ipc_mutex_unlock", c_int, c_void_p)
_consistent = fn("ipc_mutex_consistent", c_int, c_void_p)
_set_spin = fn("ipc_mutex_set_spin", c_int, c_void_p, c_int64)

_cond_wait = fn("ipc_cond_wait", c_int, c_void_p, c_void_p)
_cond_timedwait = fn("ipc_cond_timedwait", c_int, c_void_p, c_void_p, c_double)
_cond_signal = fn("ipc_cond_signal", c_int, c_void_p)
_cond_broadcast = fn("ipc_cond_broadcast", c_int, c_void_p)
_cond_set_spin = fn("ipc_cond_set_spin", c_int, c_void_p, c_int64)

_rdlock = fn("ipc_rwlock_rdlock", c_int, c_void_p)
_tryrdlock = fn("ipc_rwlock_tryrdlock", c_int, c_void_p)
_timedrdlock = fn("ipc_rwlock_timedrdlock", c_int, c_void_p, c_double)
_wrlock = fn("ipc_rwlock_wrlock", c_int, c_void_p)
_trywrlock = fn("ipc_rwlock_trywrlock", c_int, c_void_p)
_timedwrlock = fn("ipc_rwlock_timedwrlock", c_int, c_void_p, c_double)
_rw_unlock = fn("ipc_rwlock_unlock", c_int, c_void_p)


def _deadline(timeout, unlimited):
    """The time.monotonic() deadline of a wait of `timeout` seconds, None
    when `timeout` is `unlimited` (-1 or None, as the threading method has
    it) or +inf. ValueError for a negative or NaN timeout, as threading."""
    if timeout is None and unlimited is None:
        return None
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool):
        raise TypeError(f"timeout must be a number, not {type(timeout).__name__}")
    if timeout == -1 and unlimited == -1:
        return None
    if math.isnan(timeout) or timeout < 0:
        raise ValueError("timeout value must be a non-negative number")
    return None if math.isinf(timeout) else time.monotonic() + timeout


def _slice(deadline):
    """Seconds of the next C wait toward `deadline` (None: no deadline)."""
    return _SLICE if deadline is None else min(_SLICE, max(0.0, deadline - time.monotonic()))


def _take(handle, trylock, timedlock, blocking, timeout):
    """threading.Lock.acquire over the try and timed C forms: True when taken,
    False when not blocking and held elsewhere or when the time ran out."""
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        rc = trylock(handle)
        return rc != -errno.EAGAIN and check(rc) == 0
    deadline = _deadline(timeout, -1)
    while True:
        rc = timedlock(handle, _slice(deadline))
        if rc != -errno.ETIMEDOUT:
            return check(rc) == 0
        if deadline is not None and time.monotonic() >= deadline:
            return False
        # Back in Python between slices: pending signal handlers run here,
        # and an exception one raises propagates.


class _Sync(Placed):
    """What the three locks share: how they are made and named."""

    _c = None  # the table of C functions of the kind
    _what = "a lock"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._close = cls._c["close"]

    @classmethod
    def _create(cls, name, mode, unlink_on_close, open_or_create, flags):
        flags |= (IPC_UNLINK_ON_CLOSE if unlink_on_close else 0) | (IPC_OPEN_OR_CREATE if open_or_create else 0)
        return cls._named(cls._c["create"], name, operator.index(mode), flags)

    @classmethod
    def open(cls, name):
        """Opens the existing named lock `name` (``/name``):
        FileNotFoundError when there is none, OSError(EBADMSG) when the
        object under the name holds no lock of this kind."""
        return cls._named(cls._c["open"], name)

    @classmethod
    def _init(cls, buffer_or_shm, offset, flags):
        return cls._placed(cls._c["init"], buffer_or_shm, offset, flags)

    @classmethod
    def attach(cls, buffer_or_shm, offset=0):
        """A handle to the lock that init() (in this or another process) put
        at `offset` of this memory: OSError(EBADMSG) when no lock of this
        kind is there, OSError(EINVAL) when `offset` is misaligned or too
        close to the end."""
        return cls._placed(cls._c["attach"], buffer_or_shm, offset)

    @classmethod
    def unlink(cls, name):
        """Removes the name of a named lock (FileNotFoundError when there is
        none). Processes that have it open keep using it."""
        check(cls._c["unlink"](encode(name)))


class Mutex(_Sync):
    """A robust mutex shared by processes, used like threading.Lock.

    Make one with :meth:`create` or :meth:`open` (named) or with :meth:`init`
    or :meth:`attach` (in memory). ``with mutex:`` acquires it and releases it
    at the end of the block; it does not close the handle (:meth:`close`, or
    the finaliser, does; the mutex itself stays).

    When a process dies holding the mutex, the next acquire raises
    :class:`ipc.OwnerDeadError` **with the mutex held**: repair the shared
    state, call :meth:`consistent`, then :meth:`release`. Releasing without
    consistent() makes the mutex unusable for everyone: every later acquire
    raises OSError(ENOTRECOVERABLE).

    Closing the handle (or, for a mutex in memory, the memory) while this
    thread holds the mutex keeps the memory mapped until the process ends:
    the system marks a dead owner's mutex only where the dying process still
    maps it. Release first to get the memory back.
    """

    _c = _MUTEX
    #: Bytes a mutex takes in memory (``ipc_mutex_size()``).
    SIZE = _MUTEX["size"]()
    #: Alignment a lock needs in memory (``IPC_SYNC_ALIGN``).
    ALIGNMENT = IPC_SYNC_ALIGN

    @classmethod
    def create(cls, name, *, mode=0o600, unlink_on_close=False, open_or_create=False):
        """Creates the named mutex `name` (``/name``) with permission bits
        `mode`, whatever the umask. Creation is exclusive (FileExistsError)
        unless open_or_create. With unlink_on_close, closing this handle
        removes the name."""
        return cls._create(name, mode, unlink_on_close, open_or_create, 0)

    @classmethod
    def init(cls, buffer_or_shm, offset=0):
        """Initialises a mutex at `offset` of a SharedMemory (or any writable
        buffer), aligned to ALIGNMENT with SIZE bytes there; whatever was
        there is overwritten. Do it once, before others attach. The memory
        stays alive as long as the handle."""
        return cls._init(buffer_or_shm, offset, 0)

    def acquire(self, blocking=True, timeout=-1):
        """Locks the mutex, as threading.Lock.acquire: True when taken, False
        when not blocking and held (by anyone, this thread included) or when
        `timeout` seconds ran out (-1 waits without limit). OwnerDeadError
        (held) when the previous owner died holding it; OSError(EDEADLK)
        when this thread holds it already and blocking waits."""
        return _take(self._handle(), _trylock, _timedlock, blocking, timeout)

    def release(self):
        """Unlocks the mutex; PermissionError when this thread does not hold it."""
        check(_unlock(self._handle()))

    def consistent(self):
        """Marks the mutex consistent again after OwnerDeadError; keep holding
        it and release() as usual. OSError(EINVAL) when it is not in that state."""
        check(_consistent(self._handle()))

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    spin = Spin(_set_spin, """How long, in nanoseconds, a wait through this handle polls the
        mutex before sleeping in the kernel (0, the default, sleeps at once).""")


class Condition(_Sync):
    """A condition variable shared by processes, after threading.Condition.

    Every wait names the :class:`Mutex` it releases while waiting, held by
    the caller, either at each call (``cond.wait(mutex, timeout)``) or once,
    with the ``mutex`` keyword of the classmethods; then ``with cond:`` holds
    that mutex, as ``with`` holds a threading.Condition's lock. All waiters of
    one condition variable must use the same mutex.

    :meth:`wait` may return True without a notify (a spurious wake-up), as in
    C; without a timeout it does so at least every fraction of a second, so
    that Python can run its signal handlers. Wait in a loop that checks the
    shared state, or use :meth:`wait_for`, which does, and which stays
    responsive to signals with a timeout too.
    """

    _c = _COND
    _pickled = ("_mutex",)  # a pickled condition keeps its bound mutex
    #: Bytes a condition variable takes in memory (``ipc_cond_size()``).
    SIZE = _COND["size"]()
    #: Alignment a lock needs in memory (``IPC_SYNC_ALIGN``).
    ALIGNMENT = IPC_SYNC_ALIGN

    def _setup(self):
        self._mutex = None

    def _bind(self, mutex):
        if mutex is not None and not isinstance(mutex, Mutex):
            raise TypeError(f"mutex must be an ipc.Mutex, not {type(mutex).__name__}")
        self._mutex = mutex
        return self

    @classmethod
    def create(cls, name, *, mode=0o600, unlink_on_close=False, open_or_create=False, mutex=None):
        """Creates the named condition variable `name`, as Mutex.create();
        `mutex` binds the Mutex its waits use by default."""
        return cls._create(name, mode, unlink_on_close, open_or_create, 0)._bind(mutex)

    @classmethod
    def open(cls, name, *, mutex=None):
        """Opens the existing named condition variable `name`, as Mutex.open()."""
        return super().open(name)._bind(mutex)

    @classmethod
    def init(cls, buffer_or_shm, offset=0, *, mutex=None):
        """Initialises a condition variable at `offset` of the memory, as Mutex.init()."""
        return cls._init(buffer_or_shm, offset, 0)._bind(mutex)

    @classmethod
    def attach(cls, buffer_or_shm, offset=0, *, mutex=None):
        """A handle to the condition variable at `offset` of the memory, as Mutex.attach()."""
        return super().attach(buffer_or_shm, offset)._bind(mutex)

    @property
    def mutex(self):
        """The Mutex bound with the ``mutex`` keyword, or None."""
        return self._mutex

    def _mutex_of(self, mutex):
        mutex = self._mutex if mutex is None else mutex
        if not isinstance(mutex, Mutex):
            if mutex is None:
                raise TypeError("no mutex: pass one, or bind one with the mutex keyword")
            raise TypeError(f"mutex must be an ipc.Mutex, not {type(mutex).__name__}")
        return mutex

    def wait(self, mutex=None, timeout=None):
        """Releases `mutex` (held by the caller; default: the bound one),
        waits for a notify, and holds `mutex` again on return: False when
        `timeout` seconds ran out, True otherwise, spurious wake-ups included.
        Without a timeout (None or +inf) it waits one short slice at most, so
        that signal handlers run; with one, it waits in one piece (signal
        handlers run when it returns). OwnerDeadError (held again) when its
        last owner died; PermissionError when the caller does not hold it."""
        mutex = self._mutex_of(mutex)
        handle, held = self._handle(), mutex._handle()
        deadline = _deadline(timeout, None)
        # Never wait again after a slice ran out: that could miss a notify
        # sent while this thread was retaking the mutex. So a wait without a
        # timeout returns after one slice, and a timed wait is not sliced.
        seconds = _SLICE if deadline is None else timeout
        rc = _cond_timedwait(handle, held, seconds)
        if rc != -errno.ETIMEDOUT:
            return check(rc) == 0
        return deadline is None

    def wait_for(self, predicate, timeout=None, mutex=None):
        """Waits until predicate() is true, as threading.Condition.wait_for:
        returns the last value of predicate(), false when `timeout` seconds
        ran out first. The caller holds the mutex, as for wait()."""
        mutex = self._mutex_of(mutex)
        deadline = _deadline(timeout, None)
        result = predicate()
        while not result:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self.wait(mutex, None if left is None else min(left, _SLICE))
            result = predicate()
        return result

    def notify(self, n=1):
        """Wakes at least one waiter, if any, `n` times."""
        n = operator.index(n)
        if n < 0:
            raise ValueError("n must not be negative")
        handle = self._handle()
        for _ in range(n):
            check(_cond_signal(handle))

    def notify_all(self):
        """Wakes every waiter."""
        check(_cond_broadcast(self._handle()))

    spin = Spin(_cond_set_spin, """How long, in nanoseconds, a wait through this handle polls
        for a notify, after releasing the mutex, before sleeping in the kernel
        (0, the default, sleeps at once). A timed wait never spins past its
        timeout.""")

    def __enter__(self):
        self._handle()
        self._mutex_of(None).acquire()
        return self

    def __exit__(self, *exc):
        self._mutex.release()


class RWLock(_Sync):
    """A read/write lock shared by processes: many readers or one writer.

    ``with rw.read():`` and ``with rw.write():`` hold it for a block. It is
    not robust: a process that dies holding it leaves it held. ``with rw:``
    closes the handle at the end of the block, as for other ipc objects.
    """

    _c = _RWLOCK
    #: Bytes a read/write lock takes in memory (``ipc_rwlock_size()``).
    SIZE = _RWLOCK["size"]()
    #: Alignment a lock needs in memory (``IPC_SYNC_ALIGN``).
    ALIGNMENT = IPC_SYNC_ALIGN

    @classmethod
    def create(cls, name, *, mode=0o600, unlink_on_close=False, open_or_create=False, prefer_writer=False):
        """Creates the named read/write lock `name`, as Mutex.create(). With
        prefer_writer, waiting writers go before new readers (then a thread
        must not take a second read lock while it holds one)."""
        flags = IPC_RWLOCK_PREFER_WRITER if prefer_writer else 0
        return cls._create(name, mode, unlink_on_close, open_or_create, flags)

    @classmethod
    def init(cls, buffer_or_shm, offset=0, *, prefer_writer=False):
        """Initialises a read/write lock at `offset` of the memory, as Mutex.init()."""
        return cls._init(buffer_or_shm, offset, IPC_RWLOCK_PREFER_WRITER if prefer_writer else 0)

    def acquire_read(self, blocking=True, timeout=-1):
        """Takes a read lock, as Mutex.acquire(): True when taken, False when
        not blocking and a writer holds it, or when the time ran out."""
        return _take(self._handle(), _tryrdlock, _timedrdlock, blocking, timeout)

    def acquire_write(self, blocking=True, timeout=-1):
        """Takes the write lock, as Mutex.acquire(): True when taken, False
        when not blocking and anyone holds it, or when the time ran out.
        OSError(EDEADLK) when this thread holds the write lock and blocking waits."""
        return _take(self._handle(), _trywrlock, _timedwrlock, blocking, timeout)

    def release(self):
        """Releases the read or write lock this thread holds; PermissionError
        when the lock is not held (or its writer is another thread)."""
        check(_rw_unlock(self._handle()))

    @contextlib.contextmanager
    def read(self, timeout=-1):
        """``with rw.read():`` holds a read lock for the block (TimeoutError
        when `timeout` seconds run out first)."""
        if not self.acquire_read(timeout=timeout):
            raise TimeoutError(errno.ETIMEDOUT, "rwlock read lock: timed out")
        try:
            yield self
        finally:
            self.release()

    @contextlib.contextmanager
    def write(self, timeout=-1):
        """``with rw.write():`` holds the write lock for the block
        (TimeoutError when `timeout` seconds run out first)."""
        if not self.acquire_write(timeout=timeout):
            raise TimeoutError(errno.ETIMEDOUT, "rwlock write lock: timed out")
        try:
            yield self
        finally:
            self.release()
