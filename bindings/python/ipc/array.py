"""Shared arrays (ipc/array.h): numpy arrays in shared memory, behind the
self-describing header of IPC.jl, so C, Julia and Python share them.

``SharedArray`` is a subclass of ``numpy.ndarray`` in Fortran order: the shape
is the C and Julia shape, never reversed, and ``a[i, j]`` in Python is
``A[i+1, j+1]`` in Julia. The array shares the mapped memory (no copy).

Lifetime: the C handle, and with it the mapping, belongs to a private object
at the bottom of every view's ``base`` chain. It is released when the last
array or view using the memory is gone, never earlier, so no view ever
points at unmapped memory. ``close()`` ends the array as an object (and with
``unlink_on_close`` removes the name at once); the memory goes with the last
view.

Views (slices, transposes, reshapes, in-place results) of a SharedArray are
SharedArrays that know their owner (``a[0].address`` works). Arrays with
memory of their own (ufunc results, reductions) are plain numpy arrays;
``copy()`` and ``astype()`` give a SharedArray that shares nothing, whose
``address``, ``close()`` and ``unlink()`` raise ValueError.

numpy is optional for the rest of the package: without it, ``import ipc``
works and every array function raises ImportError when called.
"""

import ctypes
import errno
import functools
import operator
import os
import weakref
from ctypes import POINTER, byref, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint32, c_void_p

from ._capi import IPC_OPEN_OR_CREATE, IPC_RDONLY, const, encode, fn
from ._errors import check
from ._handle import Handle, bytes_type
from .shm import _identity, _stat, _unlink, ipc_shm_info

try:
    import numpy
except ImportError:  # the rest of ipc works without numpy
    numpy = None
_NUMPY1 = numpy is not None and numpy.lib.NumpyVersion(numpy.__version__) < "2.0.0"

IPC_INT8 = const("IPC_INT8", 1)
IPC_UINT8 = const("IPC_UINT8", 2)
IPC_INT16 = const("IPC_INT16", 3)
IPC_UINT16 = const("IPC_UINT16", 4)
IPC_INT32 = const("IPC_INT32", 5)
IPC_UINT32 = const("IPC_UINT32", 6)
IPC_INT64 = const("IPC_INT64", 7)
IPC_UINT64 = const("IPC_UINT64", 8)
IPC_FLOAT32 = const("IPC_FLOAT32", 9)
IPC_FLOAT64 = const("IPC_FLOAT64", 10)
IPC_COMPLEXF32 = const("IPC_COMPLEXF32", 11)
IPC_COMPLEXF64 = const("IPC_COMPLEXF64", 12)
IPC_ARRAY_MAGIC = const("IPC_ARRAY_MAGIC", 0x57412D31)
IPC_ARRAY_MAXDIMS = const("IPC_ARRAY_MAXDIMS", 32)
IPC_ARRAY_ALIGN = const("IPC_ARRAY_ALIGN", 64)
IPC_ADDRESS_MAX = const("IPC_ADDRESS_MAX", 272)

_create = fn("ipc_array_create", c_int, POINTER(c_void_p), c_char_p, c_int, c_int, POINTER(c_int64),
             c_uint32, c_uint32)
_open = fn("ipc_array_open", c_int, POINTER(c_void_p), c_char_p, c_uint32)
_wrap = fn("ipc_array_wrap", c_int, POINTER(c_void_p), c_void_p, c_size_t, c_uint32)
_write_header = fn("ipc_array_write_header", c_int, c_void_p, c_size_t, c_int, c_int, POINTER(c_int64))
_close = fn("ipc_array_close", c_int, c_void_p)
_data = fn("ipc_array_data", c_void_p, c_void_p)
_eltype = fn("ipc_array_eltype", c_int, c_void_p)
_elsize = fn("ipc_array_elsize", c_size_t, c_int)
_ndims = fn("ipc_array_ndims", c_int, c_void_p)
_dim = fn("ipc_array_dim", c_int64, c_void_p, c_int)
_bytes = fn("ipc_array_bytes", c_size_t, c_void_p)
_header_size = fn("ipc_array_header_size", c_size_t, c_int)
_address = fn("ipc_array_address", c_int, c_void_p, POINTER(c_char), c_size_t)
_readonly = fn("ipc_array_readonly", c_int, c_void_p)

# Element type code -> numpy type string (native byte order), as in the header.
_CODES = {IPC_INT8: "i1", IPC_UINT8: "u1", IPC_INT16: "i2", IPC_UINT16: "u2", IPC_INT32: "i4",
          IPC_UINT32: "u4", IPC_INT64: "i8", IPC_UINT64: "u8", IPC_FLOAT32: "f4", IPC_FLOAT64: "f8",
          IPC_COMPLEXF32: "c8", IPC_COMPLEXF64: "c16"}
_KINDS = {kind: code for code, kind in _CODES.items()}
_SUPPORTED = "int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64, complex64, complex128"


def _numpy():
    if numpy is None:
        raise ImportError("ipc: shared arrays need numpy (Debian: python3-numpy; pip: numpy), "
                          "which cannot be imported")
    return numpy


def dtype_of(code):
    """The numpy dtype of element type code `code` (1..12, ipc.IPC_INT8 ..
    ipc.IPC_COMPLEXF64); ValueError for another code."""
    code = operator.index(code)
    if code not in _CODES:
        raise ValueError(f"unknown array element type code {code}: the codes are 1 to 12")
    return _numpy().dtype(_CODES[code])


def eltype_of(dtype):
    """The element type code of a numpy dtype (anything numpy.dtype() takes);
    TypeError for a type a shared array cannot hold."""
    dt = _numpy().dtype(dtype)
    code = _KINDS.get(dt.str[1:]) if dt.isnative and dt.fields is None and dt.subdtype is None else None
    if code is None:
        raise TypeError(f"a shared array cannot hold {dt.str!r} ({dt}) elements: "
                        f"it holds {_SUPPORTED} in native byte order")
    return code


def _dims(shape):
    """shape (an int or a sequence of ints) as a ctypes int64 array; the
    library checks the values."""
    shape = (shape,) if hasattr(shape, "__index__") else tuple(shape)
    dims = [operator.index(d) for d in shape]
    return len(dims), (c_int64 * max(len(dims), 1))(*dims)


def _identity_of(address):
    """What tells the object at `address` from a later one under the same
    address, or None when there is none: the inode of a POSIX object (its
    ctime and mode may change while it lives), the creation data of a System V
    segment."""
    if address.startswith("/"):
        try:
            st = os.stat("/dev/shm" + address)  # where glibc's shm_open puts names
        except OSError:
            return None
        return st.st_dev, st.st_ino
    info = ipc_shm_info()
    return _identity(info) if _stat(encode(address), byref(info)) == 0 else None


def _unlink_if_ours(address, identity, creator):
    """Removes `address` if it still names the object this process made or
    opened, and only in that process: a forked child dropping an inherited
    array leaves the name to its parent."""
    if creator == os.getpid() and identity is not None and _identity_of(address) == identity:
        rc = _unlink(encode(address))
        if rc != -errno.ENOENT:
            check(rc)


class _Mapping(Handle):
    """Owns one ipc_array handle and exports its elements as a buffer. Every
    array on the memory has this object at the bottom of its base chain, so
    the handle is closed (by the finaliser) only when the last one is gone;
    close() marks the object closed and removes an unlink_on_close name."""

    _unlinker = None
    _keep = None  # for a wrapped array: the object providing the memory

    def _closing(self):
        if self._unlinker is not None:
            self._unlinker()

    def _describe(self):
        return repr(self.address)


@functools.lru_cache(maxsize=64)
def _exporting(size):
    return type("_Mapping", (_Mapping, bytes_type(size)), {"__module__": __name__})


def _adopt(pointer, unlink_on_close=False, keep=None):
    """Wraps a new C handle into a SharedArray (closing it on failure)."""
    try:
        np = _numpy()
        data, nbytes = _data(pointer), _bytes(pointer)
        shape = tuple(check(_dim(pointer, k)) for k in range(check(_ndims(pointer))))
        dtype = dtype_of(check(_eltype(pointer)))
        readonly = bool(check(_readonly(pointer)))
        address = None
        if keep is None:
            text = ctypes.create_string_buffer(IPC_ADDRESS_MAX)
            length = check(_address(pointer, text, IPC_ADDRESS_MAX))
            address = text.raw[:length].decode()
        identity = _identity_of(address) if unlink_on_close else None
    except BaseException:
        _close(pointer)
        raise
    mapping = _exporting(nbytes).from_address(data)
    mapping.address, mapping.readonly, mapping._keep = address, readonly, keep
    mapping._own(pointer, _close, keeper=mapping)  # released when the last view goes
    if unlink_on_close:
        mapping._unlinker = weakref.finalize(mapping, _unlink_if_ours, address, identity, os.getpid())
    # A read-only mapping is exported read-only, so numpy refuses both writes
    # and a later `flags.writeable = True` (which would crash on PROT_READ).
    # (numpy.frombuffer keeps that memoryview as the base; ndarray(buffer=)
    # would keep the writable object under it.)
    buffer = memoryview(mapping).toreadonly() if readonly else mapping
    array = np.frombuffer(buffer, dtype).reshape(shape, order="F").view(SharedArray)
    array._owner = mapping
    return array


class SharedArray(numpy.ndarray if numpy is not None else object):
    """A numpy array (Fortran order) in shared memory, IPC.jl's WrappedArray.

    ``SharedArray(address, dtype, shape, *, mode=0o600, unlink_on_close=False,
    open_or_create=False)`` creates a zero-filled array at ``/name``,
    ``key:<n>`` or ``private`` (a new System V segment: see ``address``).
    :meth:`open` attaches to an existing one, :meth:`wrap` to a header already
    in memory. See the module documentation for lifetime and views.
    """

    _owner = None

    def __new__(cls, address, dtype, shape, *, mode=0o600, unlink_on_close=False, open_or_create=False):
        _numpy()
        code, (ndims, dims) = eltype_of(dtype), _dims(shape)
        out = c_void_p()
        flags = IPC_OPEN_OR_CREATE if open_or_create else 0
        check(_create(byref(out), encode(address, "address"), code, ndims, dims, operator.index(mode), flags))
        return _adopt(out.value, unlink_on_close)

    @classmethod
    def open(cls, address, readonly=False, *, unlink_on_close=False):
        """Attaches to the array at ``/name``, ``key:<n>`` or ``shmid:<n>``;
        ``readonly`` maps it read-only (the array is then not writeable)."""
        _numpy()
        out = c_void_p()
        check(_open(byref(out), encode(address, "address"), IPC_RDONLY if readonly else 0))
        return _adopt(out.value, unlink_on_close)

    @classmethod
    def wrap(cls, buffer, offset=0, readonly=False):
        """The array whose header is at byte `offset` of `buffer` (an
        ``ipc.SharedMemory``, or any object with the buffer protocol: bytearray,
        mmap, numpy array...). The array keeps `buffer` alive; a read-only
        buffer gives a read-only array. The header must be 8-byte aligned."""
        raw, address, size = _memory_of(buffer, offset)
        readonly = readonly or not raw.flags.writeable
        out = c_void_p()
        check(_wrap(byref(out), address, size, IPC_RDONLY if readonly else 0))
        return _adopt(out.value, keep=raw)

    def __array_finalize__(self, obj):
        # A view shares its source's owner: the bottom of its base chain (set
        # before this runs) is the owner's memory. New memory (a copy, or a
        # ufunc output, which numpy 1 makes a view of a fresh array) has none.
        owner = getattr(obj, "_owner", None)
        base = self.base
        while isinstance(base, numpy.ndarray):
            base = base.base
        if isinstance(base, memoryview):
            base = base.obj
        self._owner = owner if base is owner else None

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # Results with memory of their own are plain arrays, not SharedArrays.
        if isinstance(array, SharedArray) and array._owner is not None:
            return array
        array = array.view(numpy.ndarray)
        # numpy 1 asks no return_scalar: its 0-d results are scalars anyway.
        return array[()] if return_scalar or (_NUMPY1 and array.ndim == 0) else array

    def _mapping(self):
        if self._owner is None:
            raise ValueError("this SharedArray is a copy: it shares no memory")
        return self._owner

    @property
    def address(self):
        """The address other processes open the array by: ``/name``, or
        ``shmid:<n>`` for a System V segment; None for a wrapped array."""
        return self._mapping().address

    @property
    def readonly(self):
        """True when the memory is mapped (or was wrapped) read-only."""
        return self._mapping().readonly

    @property
    def closed(self):
        """True once close() was called on this array or a view of it."""
        return self._mapping().closed

    def close(self):
        """Ends the array: with unlink_on_close the name is removed now. The
        memory stays mapped until the last view of it is gone."""
        self._mapping().close()

    def unlink(self):
        """Removes the array's name (or System V segment); mapped memory stays valid."""
        mapping = self._mapping()
        if mapping.address is None:
            raise ValueError("a wrapped array has no address to remove")
        check(_unlink(encode(mapping.address)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        # The whole array of an address pickles (e.g. to a multiprocessing
        # child) as that address; anything else as a plain copy.
        owner = self._owner
        if owner is not None and owner.address is not None and self.flags.f_contiguous and \
                self.nbytes == ctypes.sizeof(owner) and _start(self) == ctypes.addressof(owner):
            return SharedArray.open, (owner.address, owner.readonly)
        return numpy.asarray(self).__reduce__()


def _start(array):
    return array.__array_interface__["data"][0]


def _memory_of(buffer, offset):
    """(uint8 numpy view of buffer, address of byte `offset`, bytes from there)."""
    np = _numpy()
    from .shm import SharedMemory

    raw = np.frombuffer(buffer.buf if isinstance(buffer, SharedMemory) else buffer, dtype=np.uint8)
    offset = operator.index(offset)
    if not 0 <= offset <= raw.size:
        raise ValueError(f"offset {offset} is outside the buffer of {raw.size} bytes")
    return raw, raw.ctypes.data + offset, raw.size - offset


def write_array_header(buffer, offset, dtype, shape):
    """Writes an array header for `dtype` and `shape` at byte `offset` of a
    writable `buffer` (as for :meth:`SharedArray.wrap`); the elements follow
    at ``offset + header_size(len(shape))`` and are not touched."""
    code, (ndims, dims) = eltype_of(dtype), _dims(shape)
    raw, address, size = _memory_of(buffer, offset)
    if not raw.flags.writeable:
        raise TypeError("cannot write an array header into a read-only buffer")
    check(_write_header(address, size, code, ndims, dims))


def header_size(ndims):
    """The header size (the data offset) of a rank: 64 for ranks 1 to 6, 128
    for 7 to 14, ... ; ValueError outside 1 .. IPC_ARRAY_MAXDIMS."""
    size = _header_size(operator.index(ndims))
    if size == 0:
        raise ValueError(f"rank {ndims} is outside 1 .. {IPC_ARRAY_MAXDIMS}")
    return size


def element_size(code):
    """The size in bytes of one element of type code `code`."""
    size = _elsize(operator.index(code))
    if size == 0:
        raise ValueError(f"unknown array element type code {code}: the codes are 1 to 12")
    return size
