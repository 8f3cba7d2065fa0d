"""SharedArray: numpy arrays in shared memory, through the Python binding."""

import errno
import gc
import os
import pickle
import struct
import subprocess
import sys

import pytest

import ipc

numpy = pytest.importorskip("numpy")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float32", "float64", "complex64", "complex128"]


def mappings_of(address):
    """How many mappings of this process show the POSIX object `address`."""
    inode = str(os.stat("/dev/shm" + address).st_ino)
    with open("/proc/self/maps") as maps:
        return sum(1 for line in maps if line.split()[4] == inode)


def header_of(address):
    """The header fields (magic, type, rank, offset, dims) of the object at `address`."""
    with ipc.SharedMemory.open(address, readonly=True) as shm:
        raw = bytes(shm.buf[:shm.size])
    magic, code, rank, offset = struct.unpack_from("<IHHq", raw)
    return magic, code, rank, offset, struct.unpack_from(f"<{rank}q", raw, 16), raw[offset:]


# Cross-process, layout


def test_writes_show_in_another_process(name, child):
    with ipc.SharedArray(name, "float64", (3, 4), unlink_on_close=True) as a:
        a[1, 2] = 12.5

        def other():
            mine = ipc.SharedArray.open(name)
            assert mine.shape == (3, 4) and mine.dtype == numpy.float64 and mine[1, 2] == 12.5
            mine[2, 3] = -1.0

        assert child(other) == 0
        assert a[2, 3] == -1.0


def test_fortran_order_and_shape_match_c_and_julia(name):
    with ipc.SharedArray(name, numpy.int32, (3, 4, 5), unlink_on_close=True) as a:
        assert isinstance(a, numpy.ndarray) and a.shape == (3, 4, 5) and a.ndim == 3
        assert a.flags.f_contiguous and a.strides == (4, 12, 48)
        a[...] = numpy.arange(60).reshape((3, 4, 5), order="F")
        a[1, 2, 3] = 1000
        magic, code, rank, offset, dims, data = header_of(name)
        assert (magic, code, rank, offset, dims) == (ipc.array.IPC_ARRAY_MAGIC, ipc.IPC_INT32, 3, 64, (3, 4, 5))
        elements = struct.unpack_from("<60i", data)
        assert elements[1 + 3 * (2 + 4 * 3)] == 1000  # C: data[i + d0*(j + d1*k)]
        assert elements[:4] == (0, 1, 2, 3)
        assert len(data) == 240 and os.stat("/dev/shm" + name).st_size == 64 + 240


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_element_type_round_trips(name, dtype):
    code = DTYPES.index(dtype) + 1
    assert ipc.array_eltype(dtype) == ipc.array_eltype(numpy.dtype(dtype)) == code
    assert ipc.array_dtype(code) == numpy.dtype(dtype)
    assert ipc.array_element_size(code) == numpy.dtype(dtype).itemsize
    values = numpy.arange(1, 7).astype(dtype).reshape(2, 3) * (1 + 1j if dtype.startswith("complex") else 1)
    values[1, 2] = numpy.iinfo(dtype).max if dtype[0] in "iu" else values[1, 2] / 3
    with ipc.SharedArray(name, dtype, (2, 3), unlink_on_close=True) as a:
        assert a.dtype == numpy.dtype(dtype) and (a == 0).all()  # zero-filled
        a[...] = values
        again = ipc.SharedArray.open(name)
        assert again.dtype == numpy.dtype(dtype) and again.shape == (2, 3)
        assert numpy.array_equal(again, values)
        assert header_of(name)[1] == code


@pytest.mark.parametrize("dtype", ["bool", "float16", "object", ">i4", "U3", "i4,i4", "datetime64[s]",
                                   "longdouble", ("f8", 2)])
def test_unsupported_element_types(name, dtype):
    with pytest.raises(TypeError, match="a shared array cannot hold .* it holds int8, uint8"):
        ipc.SharedArray(name, dtype, 3)
    with pytest.raises(TypeError):
        ipc.array_eltype(dtype)


@pytest.mark.parametrize("code", [0, 13, -1])
def test_unknown_type_codes(code):
    with pytest.raises(ValueError, match="unknown array element type code"):
        ipc.array_dtype(code)
    with pytest.raises(ValueError, match="unknown array element type code"):
        ipc.array_element_size(code)


def test_system_v_array_across_processes(child):
    with ipc.SharedArray("private", "uint16", 10, unlink_on_close=True) as a:
        assert a.address.startswith("shmid:") and a.shape == (10,)

        def other():
            mine = ipc.SharedArray.open(a.address)
            mine[:] = numpy.arange(10)

        assert child(other) == 0
        assert a.tolist() == list(range(10))


# Read-only


def test_read_only(name, child):
    with ipc.SharedArray(name, "f4", (2, 2), unlink_on_close=True) as a:
        a[0, 1] = 3
        ro = ipc.SharedArray.open(name, readonly=True)
        assert ro.readonly and not a.readonly and not ro.flags.writeable and ro[0, 1] == 3
        with pytest.raises(ValueError, match="read-only"):
            ro[0, 0] = 1
        with pytest.raises(ValueError):
            ro.flags.writeable = True  # the buffer is read-only: numpy refuses
        assert not ro[1:].flags.writeable and not ro.T.flags.writeable and ro[1:].readonly
        assert type(ro * 2) is numpy.ndarray and (ro * 2).flags.writeable  # a new, private array

        def other():
            mine = ipc.SharedArray.open(name, True)
            assert not mine.flags.writeable and mine[0, 1] == 3

        assert child(other) == 0


# Errors


def hostile(name, header, data=b""):
    """A POSIX object holding `header` then `data`, made without the array API."""
    shm = ipc.SharedMemory.create(name, len(header) + len(data))
    shm[:] = header + data
    return shm


@pytest.mark.parametrize("fields, message", [
    (struct.pack("<IHHq", 0x57412D31, 99, 1, 64) + struct.pack("<q", 4), "element type code"),
    (struct.pack("<IHHq", 0x57412D31, 1, 1, 64) + struct.pack("<q", 1 << 40), "data ends at byte"),
    (struct.pack("<IHHq", 0x57412D31, 1, 1, 128) + struct.pack("<q", 4), "data offset"),
    (struct.pack("<IHHq", 0x57412D31, 1, 2, 64) + struct.pack("<qq", 2, -3), "dimension 1"),
    (struct.pack("<IHHq", 0x57412D31, 1, 40, 64), "dimension table ends at byte"),
    (struct.pack("<IHHq", 0x12345678, 1, 1, 64), "magic 0x12345678"),
])
def test_hostile_header_is_ebadmsg(name, fields, message):
    header = fields.ljust(64, b"\0")
    with hostile(name, header, b"\0" * 8) as shm:
        with pytest.raises(OSError, match=message) as raised:
            ipc.SharedArray.open(name)
        assert type(raised.value) is OSError and raised.value.errno == errno.EBADMSG
        with pytest.raises(OSError) as raised:
            ipc.SharedArray.wrap(bytearray(header + b"\0" * 8))
        assert raised.value.errno == errno.EBADMSG
        shm.unlink()


def test_unpublished_header_is_eagain(name):
    with hostile(name, bytes(72)) as shm:
        with pytest.raises(BlockingIOError) as raised:
            ipc.SharedArray.open(name)
        assert raised.value.errno == errno.EAGAIN
        shm.unlink()


def test_bad_arguments(name):
    with pytest.raises(FileNotFoundError):
        ipc.SharedArray.open(name)
    for shape in [(), (0,), (3, -1), (1,) * 33]:
        with pytest.raises(OSError) as raised:
            ipc.SharedArray(name, "f8", shape)
        assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
    with pytest.raises(OSError) as raised:
        ipc.SharedArray("no-slash", "f8", 3)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        ipc.SharedArray(name, "f8", 2.5)
    with pytest.raises(TypeError, match="address must be str or bytes"):
        ipc.SharedArray(42, "f8", 3)
    with pytest.raises(TypeError):
        ipc.SharedArray(name, "f8", 3, mode="600")


def test_open_or_create(name):
    with ipc.SharedArray(name, "i8", (2, 3), unlink_on_close=True) as a:
        a[1, 1] = 7
        same = ipc.SharedArray(name, "int64", [2, 3], open_or_create=True)
        assert same[1, 1] == 7
        with pytest.raises(FileExistsError):
            ipc.SharedArray(name, "int64", (3, 2), open_or_create=True)
        with pytest.raises(FileExistsError):
            ipc.SharedArray(name, "int64", (2, 3))


# Lifetime


def test_views_keep_the_mapping_alive(name):
    a = ipc.SharedArray(name, "f8", (4, 5))
    try:
        assert mappings_of(name) == 1
        row, transposed, plain = a[2], a.T, numpy.asarray(a)[:, 1]
        a.close()
        assert a.closed and row.closed
        del a
        gc.collect()
        assert mappings_of(name) == 1
        row[:] = 3.0  # still mapped, still shared
        other = ipc.SharedArray.open(name)
        assert other[2, 4] == 3.0 and transposed[4, 2] == 3.0 and plain[2] == 3.0
        del other
        assert mappings_of(name) == 1
        del row, transposed
        assert mappings_of(name) == 1  # the plain view holds it too
        del plain
        assert mappings_of(name) == 0  # the last view gone, the handle is closed
    finally:
        ipc.shm_unlink(name)


def test_results_with_their_own_memory_are_not_shared(name):
    with ipc.SharedArray(name, "f8", (2, 2), unlink_on_close=True) as a:
        a[...] = [[1, 2], [3, 4]]
        assert type(a + 1) is numpy.ndarray and type(numpy.sqrt(a)) is numpy.ndarray
        assert type(a.sum()) is numpy.float64 and a.sum() == 10
        assert type(a.sum(axis=0)) is numpy.ndarray
        numpy.add(a, 1, out=a)  # in place: still the shared array
        assert a[1, 1] == 5 and a.address == name
        copy = a.copy()
        assert isinstance(copy, ipc.SharedArray)
        for operation in (lambda: copy.address, copy.close, copy.unlink, lambda: copy.readonly):
            with pytest.raises(ValueError, match="is a copy: it shares no memory"):
                operation()
        assert a[:, 1].address == a.reshape(4, order="F")[1:].address == name  # views share


def test_unlink_on_close(name, child):
    a = ipc.SharedArray(name, "u1", 8, unlink_on_close=True)
    view = a[2:]

    def drop():  # a forked child dropping its inherited copy leaves the name alone
        global inherited
        inherited = None
        gc.collect()

    global inherited
    inherited = a
    del a
    assert child(drop) == 0
    assert ipc.shm_stat(name).size == 72
    inherited.close()  # removes the name at once, while a view still lives
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)
    view[0] = 1
    inherited = view = None
    gc.collect()

    forgotten = ipc.SharedArray(name, "u1", 8, unlink_on_close=True)
    del forgotten  # the finaliser removes the name
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)


def test_unlink_on_close_after_the_object_changed(name):
    a = ipc.SharedArray(name, "u1", 8, unlink_on_close=True)
    with ipc.SharedMemory.open(name) as shm:
        shm.chmod(0o640)  # changes mode and ctime, not the object
    a[0] = 1
    a.close()
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)


def test_unlink_on_close_spares_a_new_object_under_the_name(name):
    a = ipc.SharedArray(name, "u1", 8, unlink_on_close=True)
    ipc.shm_unlink(name)
    with ipc.SharedArray(name, "u1", 16) as newer:
        a.close()
        assert ipc.shm_stat(name).size == 80
        newer.unlink()


def test_no_leak_over_many_cycles(name):
    with ipc.SharedArray(name, "f8", 16, unlink_on_close=True):
        fds = len(os.listdir("/proc/self/fd"))
        for _ in range(500):
            b = ipc.SharedArray.open(name)
            b[0] += 1
            del b
        assert mappings_of(name) == 1 and len(os.listdir("/proc/self/fd")) == fds


def test_pickle_reopens_the_whole_array(name):
    with ipc.SharedArray(name, "i2", (2, 2), unlink_on_close=True) as a:
        copy = pickle.loads(pickle.dumps(a))
        copy[0, 1] = 9
        assert a[0, 1] == 9 and copy.address == name
        part = pickle.loads(pickle.dumps(a[0]))
        assert type(part) is numpy.ndarray and part.tolist() == [0, 9]


def fill_column(array, column):
    """Runs in a multiprocessing child: `array` arrives pickled as its address
    (spawn) or inherited (fork)."""
    array[:, column] = numpy.arange(array.shape[0])


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_child_shares_the_array(name, method):
    import multiprocessing

    with ipc.SharedArray(name, "f8", (3, 2), unlink_on_close=True) as a:
        process = multiprocessing.get_context(method).Process(target=fill_column, args=(a, 1))
        process.start()
        process.join(60)
        assert process.exitcode == 0
        assert a[:, 1].tolist() == [0, 1, 2] and a[:, 0].tolist() == [0, 0, 0]
        assert ipc.shm_stat(name).size == 64 + 48  # the child left the name alone


# Memory the caller already has


def test_wrap_a_header_inside_shared_memory(name, child):
    with ipc.SharedMemory.create(name, 4096, unlink_on_close=True) as shm:
        ipc.write_array_header(shm, 128, "complex64", (2, 3))
        w = ipc.SharedArray.wrap(shm, offset=128)
        assert w.shape == (2, 3) and w.dtype == numpy.complex64 and w.address is None
        w[1, 2] = 1 + 2j
        assert ipc.array_header_size(2) == 64
        raw = numpy.frombuffer(shm.buf, numpy.complex64, count=6, offset=128 + 64)
        assert raw[1 + 2 * 2] == 1 + 2j
        with pytest.raises(ValueError, match="no address"):
            w.unlink()

        def other():
            assert ipc.SharedArray.wrap(ipc.SharedMemory.open(name), 128)[1, 2] == 1 + 2j

        assert child(other) == 0
        del w, raw


def test_wrap_plain_buffers():
    buffer = bytearray(64 + 8 * 4)
    ipc.write_array_header(buffer, 0, "int16", (4, 4))
    w = ipc.SharedArray.wrap(buffer)
    w[3, 3] = 5
    assert buffer[-2:] == b"\x05\x00" and not w.readonly
    ro = ipc.SharedArray.wrap(bytes(buffer))
    assert ro.readonly and not ro.flags.writeable and ro[3, 3] == 5
    assert ipc.SharedArray.wrap(buffer, readonly=True).readonly
    with pytest.raises(TypeError, match="read-only buffer"):
        ipc.write_array_header(bytes(100), 0, "f8", 2)
    with pytest.raises(OSError) as raised:
        ipc.write_array_header(bytearray(100), 0, "f8", 10)  # too small
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(OSError) as raised:
        ipc.SharedArray.wrap(numpy.zeros(20, numpy.uint64), offset=4)  # not 8-byte aligned
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(ValueError, match="outside the buffer"):
        ipc.SharedArray.wrap(buffer, offset=1000)
    assert ipc.array_header_size(7) == 128
    with pytest.raises(ValueError):
        ipc.array_header_size(0)


# Without numpy, guide example


def test_without_numpy_the_rest_works(name):
    code = f"""
import sys
sys.modules["numpy"] = None  # import numpy now fails
import ipc
with ipc.SharedMemory.create("{name}", 8, unlink_on_close=True) as shm:
    shm[0] = 1
for call in (lambda: ipc.SharedArray("{name}", "f8", 3), lambda: ipc.SharedArray.open("{name}"),
             lambda: ipc.SharedArray.wrap(bytearray(72)), lambda: ipc.write_array_header(bytearray(72), 0, "f8", 1),
             lambda: ipc.array_dtype(1), lambda: ipc.array_eltype("f8")):
    try:
        call()
    except ImportError as e:
        assert "shared arrays need numpy" in str(e), e
    else:
        raise AssertionError("no ImportError")
print("ok", ipc.array_header_size(1), ipc.IPC_FLOAT64)
"""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings", "python"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok 64 10"


def test_guide_example_runs(guide_example):
    out = guide_example("array")
    assert "reads the 3x4 float64 array at /ipc-example-array-" in out
    assert "[20. 21. 22. 23.]]" in out
