"""POSIX message queues: whole messages with a priority (ipc/mq.h).

A queue is named ``/name`` and holds at most ``capacity`` messages of at most
``msgsize`` bytes, both fixed when it is created. A receive takes the oldest
message of the highest priority. The queue's descriptor works with
``select``, ``selectors`` and ``asyncio``: it is readable when a message is
queued and writable when there is room.
"""

import ctypes
import operator
import threading
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint32, c_void_p

from ._capi import IPC_OPEN_OR_CREATE, IPC_RDONLY, IPC_UNLINK_ON_CLOSE, IPC_WRONLY, encode, fn, text_of
from ._errors import call_blocking, check
from ._handle import Handle, bytes_type

_create = fn("ipc_mq_create", c_int, POINTER(c_void_p), c_char_p, c_int64, c_int64, c_uint32, c_uint32)
_open = fn("ipc_mq_open", c_int, POINTER(c_void_p), c_char_p, c_uint32)
_close = fn("ipc_mq_close", c_int, c_void_p)
_send = fn("ipc_mq_send", c_int, c_void_p, c_void_p, c_size_t, c_uint32)
_trysend = fn("ipc_mq_trysend", c_int, c_void_p, c_void_p, c_size_t, c_uint32)
_timedsend = fn("ipc_mq_timedsend", c_int, c_void_p, c_void_p, c_size_t, c_uint32, c_double)
_receive = fn("ipc_mq_receive", c_int, c_void_p, c_void_p, c_size_t, POINTER(c_uint32))
_tryreceive = fn("ipc_mq_tryreceive", c_int, c_void_p, c_void_p, c_size_t, POINTER(c_uint32))
_timedreceive = fn("ipc_mq_timedreceive", c_int, c_void_p, c_void_p, c_size_t, POINTER(c_uint32), c_double)
_unlink = fn("ipc_mq_unlink", c_int, c_char_p)
_capacity = fn("ipc_mq_capacity", c_int64, c_void_p)
_msgsize = fn("ipc_mq_msgsize", c_int64, c_void_p)
_count = fn("ipc_mq_count", c_int64, c_void_p)
_fd = fn("ipc_mq_fd", c_int, c_void_p)
_priority_max = fn("ipc_mq_priority_max", c_uint32)


def unlink(name):
    """Removes the name of a message queue (FileNotFoundError when there is
    none). Processes that have it open keep using it."""
    check(_unlink(encode(name)))


def _size(value, what):
    value = operator.index(value)
    if value < 0:
        raise ValueError(f"{what} must not be negative")
    return value


def _priority(value):
    # Values beyond 32 bits stay beyond the maximum instead of wrapping around.
    return min(_size(value, "priority"), 0xFFFFFFFF)


def _message(data):
    """(pointer argument, length) for a bytes-like message, without copying
    writable contiguous buffers."""
    if isinstance(data, bytes):
        return data, len(data)
    view = memoryview(data)  # TypeError for what is not bytes-like (str, int...)
    if view.readonly or not view.c_contiguous:
        data = view.tobytes()
        return data, len(data)
    return bytes_type(view.nbytes).from_buffer(view), view.nbytes


def _direct(block, timeout):
    if not block and timeout is not None:
        raise ValueError("can't specify a timeout when not blocking")


class MessageQueue(Handle):
    """A POSIX message queue. Make one with :meth:`create` or :meth:`open`;
    calling the class itself is refused.

    ``send`` and ``receive`` block while the queue is full or empty;
    ``block=False`` raises BlockingIOError instead, ``timeout`` (seconds)
    raises TimeoutError when the time runs out. Blocking calls release the GIL
    and stay interruptible: a signal runs its Python handler (Ctrl-C raises
    KeyboardInterrupt) and the call resumes with the time left.

    ``with q:`` closes the handle at the end of the block. Closing leaves the
    queue and its messages to the other processes; only an
    ``unlink_on_close`` handle removes the name (and only in the process that
    made that handle, never in a forked child).
    """

    #: The highest priority (``ipc_mq_priority_max()``, 32767 on Linux); 0 is the lowest.
    PRIORITY_MAX = _priority_max()

    def __init__(self, *args, **kwargs):
        raise TypeError("use MessageQueue.create() or MessageQueue.open()")

    @classmethod
    def _wrap(cls, pointer, name, readable, writable):
        self = object.__new__(cls)
        self._own(pointer, _close)
        # Fixed for the queue's lifetime, so read once.
        self._capacity, self._msgsize = check(_capacity(pointer)), check(_msgsize(pointer))
        self._name, self._readable, self._writable = name, readable, writable
        self._buffer = None  # receive()'s buffer of msgsize bytes, made on first use
        self._buffer_lock = threading.Lock()
        return self

    @classmethod
    def create(cls, name, capacity=0, msgsize=0, *, mode=0o600, unlink_on_close=False, open_or_create=False):
        """Creates the queue `name` (``/name``) holding at most `capacity`
        messages of at most `msgsize` bytes (0: the system defaults,
        /proc/sys/fs/mqueue/msg_default and msgsize_default), with permission
        bits `mode` whatever the umask, open for sending and receiving.
        Creation is exclusive (FileExistsError) unless open_or_create, which
        opens an existing queue that holds at least as much. With
        unlink_on_close, closing this handle removes the name if it still
        names this queue."""
        flags = (IPC_UNLINK_ON_CLOSE if unlink_on_close else 0) | (IPC_OPEN_OR_CREATE if open_or_create else 0)
        out = c_void_p()
        check(_create(byref(out), encode(name), _size(capacity, "capacity"), _size(msgsize, "msgsize"),
                      operator.index(mode), flags))
        return cls._wrap(out.value, text_of(name), True, True)

    @classmethod
    def open(cls, name, *, read=True, write=True, unlink_on_close=False):
        """Opens the existing queue `name` (FileNotFoundError when there is
        none) for receiving (`read`), sending (`write`) or both."""
        if not (read or write):
            raise ValueError("a queue is opened for reading, writing or both")
        flags = (0 if write else IPC_RDONLY) | (0 if read else IPC_WRONLY)
        flags |= IPC_UNLINK_ON_CLOSE if unlink_on_close else 0
        out = c_void_p()
        check(_open(byref(out), encode(name), flags))
        return cls._wrap(out.value, text_of(name), bool(read), bool(write))

    unlink = staticmethod(unlink)

    def send(self, data, priority=0, timeout=None, block=True):
        """Sends the bytes-like `data` (at most msgsize bytes: OSError
        EMSGSIZE) with `priority` (0 to PRIORITY_MAX), waiting while the queue
        is full: at most `timeout` seconds (TimeoutError), or not at all when
        not `block` (BlockingIOError)."""
        _direct(block, timeout)
        handle = self._handle()
        message, length = _message(data)
        priority = _priority(priority)
        if not block:
            check(_trysend(handle, message, length, priority))
        else:
            call_blocking(_send, _timedsend, handle, message, length, priority, timeout=timeout)

    def receive(self, timeout=None, block=True):
        """Takes the oldest message of the highest priority and returns
        ``(bytes, priority)``, waiting while the queue is empty as send()
        waits while it is full."""
        _direct(block, timeout)
        handle = self._handle()
        # The handle's buffer serves every receive; a thread that finds it in
        # use by another thread's receive takes a buffer of its own.
        reuse = self._buffer_lock.acquire(blocking=False)
        try:
            buffer = self._buffer if reuse else None
            if buffer is None:
                buffer = ctypes.create_string_buffer(self._msgsize)
                if reuse:
                    self._buffer = buffer
            length, priority = self._receive(handle, buffer, self._msgsize, block, timeout)
            return ctypes.string_at(buffer, length), priority
        finally:
            if reuse:
                self._buffer_lock.release()

    def receive_into(self, buffer, timeout=None, block=True):
        """Receives into the writable, contiguous bytes-like `buffer` (at
        least msgsize bytes, as the system requires: OSError EMSGSIZE
        otherwise; bytearray, memoryview, mmap, numpy array...) and returns
        ``(nbytes, priority)``; waits as receive() does."""
        _direct(block, timeout)
        handle = self._handle()
        view = memoryview(buffer)
        if view.readonly:
            raise TypeError("receive_into needs a writable buffer, not a read-only one")
        target = bytes_type(view.nbytes).from_buffer(view)  # TypeError when not contiguous
        return self._receive(handle, target, view.nbytes, block, timeout)

    def _receive(self, handle, buffer, size, block, timeout):
        priority = c_uint32()
        if not block:
            length = check(_tryreceive(handle, buffer, size, byref(priority)))
        else:
            length = call_blocking(_receive, _timedreceive, handle, buffer, size, byref(priority), timeout=timeout)
        return length, priority.value

    @property
    def capacity(self):
        """The number of messages the queue holds at most."""
        return self._capacity

    @property
    def msgsize(self):
        """The largest message in bytes; also the smallest receive buffer."""
        return self._msgsize

    @property
    def count(self):
        """The number of messages queued now (other processes may change it)."""
        return check(_count(self._handle()))

    @property
    def name(self):
        """The queue's name."""
        return self._name

    @property
    def readable(self):
        """True when the handle may receive."""
        return self._readable

    @property
    def writable(self):
        """True when the handle may send."""
        return self._writable

    def fileno(self):
        """The queue's descriptor, for select, poll, selectors and asyncio:
        readable when a message is queued, writable when there is room. The
        handle keeps it: do not close it or change its flags."""
        return check(_fd(self._handle()))

    def __reduce__(self):
        # Pickled (e.g. to a multiprocessing "spawn" child) as the way to open it again.
        return _reopen, (self._name, self._readable, self._writable)

    def _closing(self):
        self._buffer = None

    def _describe(self):
        return f"{self._name!r} count={self.count} capacity={self._capacity} msgsize={self._msgsize}"


def _reopen(name, read, write):
    return MessageQueue.open(name, read=read, write=write)
