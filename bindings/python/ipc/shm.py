"""Shared memory: POSIX named objects and System V segments (ipc/shm.h).

One address string names any object: ``/name`` (POSIX), ``key:<n>`` (System V
key), ``shmid:<n>`` (System V segment id) or ``private`` (a new System V
segment, reachable by others through its ``shmid:<n>`` address).
"""

import ctypes
import dataclasses
import errno
import functools
import operator
import os
import secrets
import weakref
from ctypes import POINTER, byref, c_char, c_char_p, c_int, c_int32, c_int64, c_size_t, c_uint32, c_uint64, c_void_p

from ._capi import IPC_OPEN_OR_CREATE, IPC_RDONLY, const, encode, fn, text_of
from ._errors import check
from ._handle import Handle, bytes_type, memory_at

IPC_ADDRESS_MAX = const("IPC_ADDRESS_MAX", 272)
IPC_SHM_POSIX = const("IPC_SHM_POSIX", 1)
IPC_SHM_SYSV = const("IPC_SHM_SYSV", 2)


class ipc_shm_info(ctypes.Structure):
    """struct ipc_shm_info, 80 bytes, field for field."""

    _fields_ = [
        ("size", c_uint64),
        ("atime", c_int64),
        ("dtime", c_int64),
        ("ctime", c_int64),
        ("nattch", c_int64),
        ("kind", c_int32),
        ("id", c_int32),
        ("key", c_int32),
        ("cpid", c_int32),
        ("lpid", c_int32),
        ("mode", c_uint32),
        ("uid", c_uint32),
        ("gid", c_uint32),
        ("cuid", c_uint32),
        ("cgid", c_uint32),
    ]


_create = fn("ipc_shm_create", c_int, POINTER(c_void_p), c_char_p, c_size_t, c_uint32, c_uint32)
_open = fn("ipc_shm_open", c_int, POINTER(c_void_p), c_char_p, c_uint32)
_close = fn("ipc_shm_close", c_int, c_void_p)
_addr = fn("ipc_shm_addr", c_void_p, c_void_p)
_size = fn("ipc_shm_size", c_size_t, c_void_p)
_address = fn("ipc_shm_address", c_int, c_void_p, POINTER(c_char), c_size_t)
_readonly = fn("ipc_shm_readonly", c_int, c_void_p)
_fstat = fn("ipc_shm_fstat", c_int, c_void_p, POINTER(ipc_shm_info))
_stat = fn("ipc_shm_stat", c_int, c_char_p, POINTER(ipc_shm_info))
_chmod = fn("ipc_shm_chmod", c_int, c_void_p, c_uint32)
_unlink = fn("ipc_shm_unlink", c_int, c_char_p)
_key = fn("ipc_shm_key", c_int, c_char_p, c_int, POINTER(c_int32))
_info_size = fn("ipc_shm_info_size", c_size_t)

if _info_size() != ctypes.sizeof(ipc_shm_info):
    raise ImportError(f"ipc: ipc_shm_info is {_info_size()} bytes in the library, "
                      f"{ctypes.sizeof(ipc_shm_info)} in the binding")


@dataclasses.dataclass(frozen=True)
class ShmInfo:
    """What the system knows of a shared memory object (see ipc_shm_info).

    For System V segments the fields of ``shmctl(IPC_STAT)``; for POSIX
    objects those of ``fstat``, with the System V-only fields (nattch, id,
    cpid, lpid) set to -1. Times are seconds since the epoch.
    """

    size: int
    atime: int
    dtime: int
    ctime: int
    nattch: int
    kind: str  # "posix" or "sysv"
    id: int
    key: int
    cpid: int
    lpid: int
    mode: int
    uid: int
    gid: int
    cuid: int
    cgid: int

    @classmethod
    def _from(cls, info):
        values = {name: getattr(info, name) for name, _ in ipc_shm_info._fields_}
        values["kind"] = {IPC_SHM_POSIX: "posix", IPC_SHM_SYSV: "sysv"}.get(info.kind, str(info.kind))
        return cls(**values)


def stat(address):
    """What the system knows of the object at `address`, without mapping it."""
    info = ipc_shm_info()
    check(_stat(encode(address, "address"), byref(info)))
    return ShmInfo._from(info)


def unlink(address):
    """Removes the object at `address` (FileNotFoundError when there is none).
    Processes that map it keep their memory."""
    check(_unlink(encode(address, "address")))


def key(path, proj):
    """A System V key from an existing file and a project number (1 to 255),
    as ``ftok``; use it as ``f"key:{key}"``."""
    out = c_int32()
    check(_key(os.fsencode(path), operator.index(proj), byref(out)))
    return out.value


def _identity(info):
    # Fields that fstat and stat of the same object agree on at any moment.
    return info.size, info.ctime, info.mode, info.uid, info.gid


def _unlink_if_ours(pointer, address, keeper, creator):
    """Removes `address` unless it names another object by now (the name
    may have been removed and reused since we opened it). `keeper` keeps the
    handle alive until this has run. Only the process that opened the object
    (`creator`) removes it: a forked child closing or dropping an inherited
    copy leaves the name to its parent."""
    if creator != os.getpid():
        return
    if address.startswith("/"):
        mine, named = ipc_shm_info(), ipc_shm_info()
        if _fstat(pointer, byref(mine)) < 0 or _stat(encode(address), byref(named)) < 0:
            return
        if _identity(mine) != _identity(named):
            return
    rc = _unlink(encode(address))
    if rc != -errno.ENOENT:
        check(rc)


def _public(cls):
    """The class the user named, for an instance of an _exporting class."""
    return cls.__bases__[0] if issubclass(cls, ctypes.Array) else cls


@functools.lru_cache(maxsize=64)
def _exporting(cls, size):
    """The subclass of `cls` whose instances export `size` bytes themselves,
    so that ``memoryview(shm)`` works before Python 3.12."""
    return type(cls.__name__, (cls, bytes_type(size)),
                {"__module__": cls.__module__, "__qualname__": cls.__qualname__})


class SharedMemory(Handle):
    """A mapped shared memory object, named as in multiprocessing.shared_memory.

    ``SharedMemory(name, create=False, size=0)`` opens or creates; the
    classmethods :meth:`create` and :meth:`open` say it explicitly. With
    ``create=True`` and no name, a random POSIX name is chosen.

    The memory is ``shm.buf`` (a memoryview of format "B"), and the object
    itself supports the buffer protocol: ``memoryview(shm)``, ``shm[i]``,
    ``shm[a:b] = data``, ``bytes(shm)``, ``numpy.asarray(shm)`` all write
    through to the shared memory. Read-only objects give read-only views.

    Lifetime: close() ends the object at once (later operations raise
    ValueError; with unlink_on_close the name is removed). The mapping itself
    stays until this object and every view taken from it are gone, so a
    view can never point at unmapped memory; in CPython that is as soon as the
    last reference goes.
    """

    def __new__(cls, name=None, create=False, size=0, *, mode=0o600, readonly=False,
                unlink_on_close=False, open_or_create=False):
        out = c_void_p()
        if create or open_or_create:
            if readonly:
                raise ValueError("a created object is mapped read-write; open it again with readonly=True")
            size, mode = operator.index(size), operator.index(mode)
            if size < 0:
                raise ValueError("size must not be negative")
            if name is None:  # as multiprocessing.shared_memory does
                name = "/ipc-" + secrets.token_hex(8)
            flags = IPC_OPEN_OR_CREATE if open_or_create else 0
            check(_create(byref(out), encode(name, "address"), size, mode, flags))
        else:
            if name is None:
                raise ValueError("name can only be None if create=True")
            check(_open(byref(out), encode(name, "address"), IPC_RDONLY if readonly else 0))
        return cls._wrap(out.value, unlink_on_close)

    def __init__(self, *args, **kwargs):
        """Arguments as for __new__, which does all the work."""

    @classmethod
    def create(cls, address=None, size=0, *, mode=0o600, unlink_on_close=False, open_or_create=False):
        """Creates an object of `size` bytes (exclusively, unless
        open_or_create) with permission bits `mode`, whatever the umask."""
        return cls(address, True, size, mode=mode, unlink_on_close=unlink_on_close,
                   open_or_create=open_or_create)

    @classmethod
    def open(cls, address, readonly=False, *, unlink_on_close=False):
        """Opens the existing object at `address`; never creates."""
        return cls(address, False, readonly=readonly, unlink_on_close=unlink_on_close)

    @classmethod
    def _wrap(cls, pointer, unlink_on_close):
        try:
            readonly = bool(check(_readonly(pointer)))
            size = _size(pointer)
            text = ctypes.create_string_buffer(IPC_ADDRESS_MAX)
            length = check(_address(pointer, text, IPC_ADDRESS_MAX))
            address = text.raw[:length].decode()
            memory = memory_at(_addr(pointer), size)
        except BaseException:
            _close(pointer)
            raise
        # ctypes cannot export read-only memory: a read-only object exports
        # only through __buffer__ (Python 3.12+) and .buf.
        cls = _public(cls)
        self = object.__new__(cls) if readonly else _exporting(cls, size).from_address(_addr(pointer))
        self._memory, self._size, self._address, self._readonly = memory, size, address, readonly
        self._own(pointer, _close, keeper=memory)
        self._unlinker = None
        if unlink_on_close:
            self._unlinker = weakref.finalize(self, _unlink_if_ours, pointer, address, memory, os.getpid())
        return self

    def _closing(self):
        if self._unlinker is not None:
            self._unlinker()

    @property
    def buf(self):
        """A memoryview of the whole memory (read-only for a read-only object)."""
        self._handle()
        view = memoryview(self._memory)
        return view.toreadonly() if self._readonly else view

    def __buffer__(self, flags):
        """The buffer protocol on Python 3.12+ (PEP 688)."""
        view = self.buf
        if self._readonly and flags & 1:  # inspect.BufferFlags.WRITABLE
            raise BufferError("the shared memory is mapped read-only")
        return view

    def __getitem__(self, index):
        return self.buf[index]

    def __setitem__(self, index, value):
        self.buf[index] = value

    def __iter__(self):
        return iter(self.buf)

    def __len__(self):
        return self._size

    def __bytes__(self):
        return self.buf.tobytes()

    def __reduce__(self):
        # Pickled (e.g. to a multiprocessing child) as the address to reopen.
        return _public(type(self)).open, (self._address, self._readonly)

    @property
    def size(self):
        """The mapped size in bytes."""
        return self._size

    @property
    def address(self):
        """The address by which other processes open the object:
        ``/name``, or ``shmid:<n>`` for a System V segment."""
        return self._address

    name = address  # multiprocessing.shared_memory's name (with its leading "/")

    @property
    def readonly(self):
        """True when the memory is mapped read-only."""
        return self._readonly

    def info(self):
        """What the system knows of the object now (a :class:`ShmInfo`)."""
        info = ipc_shm_info()
        check(_fstat(self._handle(), byref(info)))
        return ShmInfo._from(info)

    def chmod(self, mode):
        """Sets the permission bits (at most 0o777); owner read and write are kept."""
        check(_chmod(self._handle(), operator.index(mode)))

    def unlink(self):
        """Removes the object's name (or System V segment); also allowed
        after close(). The memory stays valid where it is mapped."""
        unlink(self._address)

    stat = staticmethod(stat)
    key = staticmethod(key)

    def _describe(self):
        return f"{self._address!r} size={self._size}" + (" readonly" if self._readonly else "")


def writable_memory(target, offset, what):
    """(keeper, address, bytes available) for an object (`what`: "a semaphore",
    "a lock") at `offset` of a SharedMemory or of a writable buffer; `keeper`
    keeps the memory alive, and a bytearray cannot be resized under it."""
    offset = operator.index(offset)
    if offset < 0:
        raise ValueError("offset must not be negative")
    if isinstance(target, SharedMemory):
        target._handle()  # ValueError once closed
        if target.readonly:
            raise ValueError("the shared memory is mapped read-only; " + what + " needs it read-write")
        target = target._memory  # the ctypes object that keeps the mapping alive
    try:
        whole = memoryview(target)
    except TypeError:
        raise TypeError(f"{what} needs a SharedMemory or a writable buffer, not {type(target).__name__}") from None
    with whole:
        size = whole.nbytes
        if whole.readonly:
            raise TypeError(f"{what} needs a writable buffer, not a read-only one")
    if offset > size:
        raise ValueError(f"offset {offset} is beyond the {size} bytes of the buffer")
    # from_buffer holds an export of the buffer: it stays alive, and a
    # bytearray cannot be resized (moved) under the object.
    keeper = (c_char * size).from_buffer(target)
    return keeper, ctypes.addressof(keeper) + offset, size - offset


class Placed(Handle):
    """Base of the objects that either have a name or sit at an offset of
    shared memory (semaphores and locks): how a handle is wrapped, its name or
    offset, the memory it keeps alive, and pickling as the way to reach the
    same object again. A subclass sets _what ("a semaphore", for messages)
    and _close (its ipc_*_close)."""

    _what = "an object"
    _close = None
    _pickled = ()  # attributes a pickle carries besides the way to reach it

    def __init__(self, *args, **kwargs):
        raise TypeError(f"use {type(self).__name__}.create(), open(), init() or attach()")

    @classmethod
    def _wrap(cls, pointer, name=None, memory=None, offset=None):
        self = object.__new__(cls)
        self._name, self._memory, self._offset = name, memory, offset
        self._setup()
        self._own(pointer, cls._close)
        return self

    def _setup(self):
        """Sets the fields of a new object of the subclass."""

    @classmethod
    def _named(cls, make, name, *args):
        """The object make(out, name, *args) creates or opens. The C layer
        removes an unlink-on-close name only in this process, never in a
        forked child."""
        out = c_void_p()
        check(make(byref(out), encode(name), *args))
        return cls._wrap(out.value, name=text_of(name))

    @classmethod
    def _placed(cls, make, buffer_or_shm, offset, *args):
        """The object make(out, address, bytes available, *args) initialises
        or attaches at `offset` of a SharedMemory or writable buffer."""
        memory, address, avail = writable_memory(buffer_or_shm, offset, cls._what)
        out = c_void_p()
        check(make(byref(out), address, avail, *args))
        return cls._wrap(out.value, memory=(buffer_or_shm, memory), offset=operator.index(offset))

    @property
    def name(self):
        """The name of a named object; None for one in memory."""
        return self._name

    @property
    def offset(self):
        """The offset of an object in memory; None for a named one."""
        return self._offset

    def __reduce__(self):
        # Pickled (e.g. to a multiprocessing "spawn" child) as the way to
        # reach the same object: its name, or the shared memory and offset.
        if self._name is None and not isinstance(self._memory[0], SharedMemory):
            raise TypeError(f"a {type(self).__name__} in a private buffer cannot be pickled")
        memory = None if self._name is not None else self._memory[0]
        fields = {attribute: getattr(self, attribute) for attribute in self._pickled}
        return _reach, (type(self), self._name, memory, self._offset, fields)

    def _closing(self):
        self._memory = None  # the buffer may go once the handle is released

    def _describe(self):
        return repr(self._name) if self._name is not None else f"in memory at offset {self._offset}"


def _reach(cls, name, memory, offset, fields):
    """Unpickles a Placed object: opens the name, or attaches at the offset."""
    placed = cls.open(name) if name is not None else cls.attach(memory, offset)
    placed.__dict__.update(fields)
    return placed
