"""SharedMemory, errors and handle lifetime, through the Python binding."""

import ctypes
import errno
import gc
import os
import pickle
import subprocess
import sys

import pytest

import ipc
from ipc import _capi, _errors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mappings_of(inode):
    """How many mappings of this process show the shared memory file `inode`
    (by inode: the object may have been made under another name)."""
    with open("/proc/self/maps") as maps:
        return sum(1 for line in maps if line.split()[4] == str(inode))


def inode_of(address):
    return os.stat("/dev/shm" + address).st_ino


# Cross-process visibility


def test_writes_show_in_another_process(name, child):
    with ipc.SharedMemory(name, create=True, size=4096, unlink_on_close=True) as shm:
        shm.buf[:5] = b"hello"

        def other():
            with ipc.SharedMemory(name) as mine:
                assert bytes(mine[:5]) == b"hello"
                memoryview(mine)[4096 - 3:] = b"end"

        assert child(other) == 0
        assert bytes(shm.buf[-3:]) == b"end"


def test_system_v_segment_across_processes(child):
    with ipc.SharedMemory.create("private", 100, unlink_on_close=True) as shm:
        assert shm.address.startswith("shmid:")
        info = shm.info()
        assert (info.kind, info.key, info.nattch) == ("sysv", 0, 1)
        assert shm.address == f"shmid:{info.id}"

        def other():
            with ipc.SharedMemory.open(shm.address) as mine:
                mine[0] = 42

        assert child(other) == 0
        assert shm[0] == 42


def test_key_addresses(tmp_path):
    path = tmp_path / "keyfile"
    path.write_bytes(b"")
    key = ipc.SharedMemory.key(path, 7)
    assert key == ipc.shm_key(str(path), 7) != ipc.shm_key(path, 8)
    try:
        ipc.shm_unlink(f"key:{key}")  # a segment of a reused inode in an earlier run
    except FileNotFoundError:
        pass
    with ipc.SharedMemory.create(f"key:{key}", 64, unlink_on_close=True) as shm:
        assert shm.info().key == key
        with ipc.SharedMemory.open(f"key:{key}") as again:
            again[1] = 7
        assert shm[1] == 7


# The buffer protocol


def test_buffer_protocol_writes_through(name):
    with ipc.SharedMemory.create(name, 64, unlink_on_close=True) as shm, ipc.SharedMemory.open(name) as other:
        view = memoryview(shm)
        assert (view.format, view.itemsize, view.shape, view.readonly) == ("B", 1, (64,), False)
        view[0:3] = b"abc"
        view[3] = 0x64
        shm[4:6] = b"ef"
        shm[6] = 0x67
        assert bytes(other.buf[:7]) == b"abcdefg"
        assert bytes(other)[:7] == b"abcdefg" and len(other) == 64 and other[0] == 0x61
        assert list(other)[:3] == [0x61, 0x62, 0x63]
        assert shm.buf.format == "B" and shm.buf.nbytes == 64


def test_numpy_shares_the_memory(name):
    numpy = pytest.importorskip("numpy")
    with ipc.SharedMemory.create(name, 80, unlink_on_close=True) as shm:
        array = numpy.asarray(shm)
        assert array.dtype == numpy.uint8 and array.shape == (80,)
        doubles = numpy.frombuffer(shm.buf, dtype=numpy.float64)
        doubles[:] = numpy.arange(10)
        with ipc.SharedMemory.open(name, readonly=True) as other:
            seen = numpy.frombuffer(other.buf, dtype=numpy.float64)
            assert seen.tolist() == list(range(10)) and not seen.flags.writeable
        del array, doubles, seen


def test_multiprocessing_style(name):
    shm = ipc.SharedMemory(name=name, create=True, size=10)
    try:
        assert (shm.name, shm.address, shm.size) == (name, name, 10)
        other = ipc.SharedMemory(name)
        other.buf[0] = 1
        assert shm.buf[0] == 1
        other.close()
    finally:
        shm.close()
        shm.unlink()


def test_random_name_when_none_given():
    with ipc.SharedMemory(create=True, size=10, unlink_on_close=True) as shm:
        assert shm.name.startswith("/ipc-") and len(shm.name) == 21
        assert ipc.shm_stat(shm.name).size == 10


def test_pickle_reopens_the_same_memory(name):
    with ipc.SharedMemory.create(name, 10, unlink_on_close=True) as shm:
        copy = pickle.loads(pickle.dumps(shm))
        copy[2] = 9
        assert shm[2] == 9 and type(copy).__name__ == "SharedMemory" and not copy.readonly
        copy.close()


def write_marker(shm, offset):
    """Runs in a multiprocessing child: `shm` arrives pickled as its address."""
    shm[offset] = 0x5A
    shm.close()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_child_gets_the_same_memory(name, method):
    import multiprocessing

    with ipc.SharedMemory.create(name, 16, unlink_on_close=True) as shm:
        process = multiprocessing.get_context(method).Process(target=write_marker, args=(shm, 3))
        process.start()
        process.join(60)
        assert process.exitcode == 0
        assert shm[3] == 0x5A
        assert ipc.shm_stat(name).size == 16  # the child's close did not remove the name


# Read-only


def test_read_only(name, child):
    with ipc.SharedMemory.create(name, 16, unlink_on_close=True) as shm:
        shm[0] = 5
        with ipc.SharedMemory.open(name, readonly=True) as ro:
            assert ro.readonly and ro.buf.readonly and ro[0] == 5
            with pytest.raises(TypeError, match="cannot modify read-only memory"):
                ro.buf[0] = 1
            with pytest.raises(TypeError, match="cannot modify read-only memory"):
                ro[0:2] = b"xy"
            if sys.version_info >= (3, 12):
                assert memoryview(ro).readonly
            else:  # ctypes cannot export read-only memory: only .buf then
                with pytest.raises(TypeError):
                    memoryview(ro)
            assert "readonly" in repr(ro)

        def other():
            with ipc.SharedMemory(name, readonly=True) as mine:
                assert mine[0] == 5

        assert child(other) == 0
    with pytest.raises(ValueError, match="mapped read-write"):
        ipc.SharedMemory(name, create=True, size=1, readonly=True)


# Errors: exact classes, errno and the library's message


def test_missing_object(name):
    with pytest.raises(FileNotFoundError) as raised:
        ipc.SharedMemory(name)
    assert raised.value.errno == errno.ENOENT
    assert str(raised.value) == f'[Errno 2] shm open "{name}": No such file or directory'
    with pytest.raises(FileNotFoundError):
        ipc.shm_unlink(name)
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)


def test_existing_object(name):
    with ipc.SharedMemory.create(name, 10, unlink_on_close=True):
        with pytest.raises(FileExistsError) as raised:
            ipc.SharedMemory.create(name, 10)
        assert raised.value.errno == errno.EEXIST
        assert raised.value.strerror == f'shm create "{name}": File exists'
        with ipc.SharedMemory.create(name, 10, open_or_create=True) as same:
            assert same.size == 10


@pytest.mark.parametrize("address, size, mode", [
    ("no-slash", 10, 0o600), ("/a/b", 10, 0o600), ("/", 10, 0o600), ("shmid:1", 10, 0o600),
    (None, 0, 0o600), (None, 10, 0o1777),
])
def test_invalid_arguments(name, address, size, mode):
    with pytest.raises(OSError) as raised:
        ipc.SharedMemory.create(address or name, size, mode=mode)
    assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
    assert raised.value.strerror == _errors.last_error() != ""


def test_argument_types(name):
    with pytest.raises(TypeError, match="address must be str or bytes, not int"):
        ipc.SharedMemory(42)
    with pytest.raises(ValueError, match="name can only be None if create=True"):
        ipc.SharedMemory()
    with pytest.raises(TypeError):
        ipc.SharedMemory(name, create=True, size=1.5)
    with pytest.raises(TypeError):
        ipc.SharedMemory(name, create=True, size=1, mode="600")
    with pytest.raises(ValueError, match="size must not be negative"):
        ipc.SharedMemory(name, create=True, size=-1)
    with pytest.raises(OSError) as raised:
        ipc.SharedMemory.key("/no/such/file", 1)
    assert type(raised.value) is FileNotFoundError
    with pytest.raises(OSError) as raised:
        ipc.SharedMemory.key(__file__, 0)
    assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL


def test_permission_denied_for_another_user(name, child):
    with ipc.SharedMemory.create(name, 10, mode=0o600, unlink_on_close=True):
        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
            with pytest.raises(PermissionError) as raised:
                ipc.SharedMemory(name)
            assert raised.value.errno == errno.EACCES
            assert raised.value.strerror == f'shm open "{name}": Permission denied'

        assert child(as_nobody) == 0


@pytest.mark.parametrize("code, kind", [
    (errno.ENOENT, FileNotFoundError), (errno.EEXIST, FileExistsError), (errno.EACCES, PermissionError),
    (errno.EPERM, PermissionError), (errno.ETIMEDOUT, TimeoutError), (errno.EAGAIN, BlockingIOError),
    (errno.EINTR, InterruptedError), (errno.EOWNERDEAD, ipc.OwnerDeadError), (errno.EINVAL, OSError),
    (errno.EBADMSG, OSError), (errno.ENOTRECOVERABLE, OSError),
])
def test_error_classes_follow_python(code, kind):
    # The same classes os functions raise, and OwnerDeadError for EOWNERDEAD.
    with pytest.raises(OSError) as raised:
        _errors.check(-code)
    assert type(raised.value) is kind and raised.value.errno == code
    assert isinstance(raised.value, OSError)
    assert _errors.check(0) == 0 and _errors.check(7) == 7


def test_message_falls_back_to_strerror():
    assert str(_errors.error(errno.ENOENT, "context")) == "[Errno 2] context"
    assert _capi.ipc_strerror(errno.ETIMEDOUT).decode() == os.strerror(errno.ETIMEDOUT)


# Handles and lifetime


def test_close_is_idempotent_and_closed_objects_refuse(name):
    shm = ipc.SharedMemory.create(name, 10)
    assert not shm.closed and repr(shm) == f"<ipc.SharedMemory '{name}' size=10>"
    shm.close()
    shm.close()
    assert shm.closed and repr(shm) == "<ipc.SharedMemory closed>"
    for operation in (lambda: shm.buf, shm.info, lambda: shm.chmod(0o644), lambda: shm[0],
                      lambda: bytes(shm), lambda: shm.__enter__()):
        with pytest.raises(ValueError, match="operation on a closed SharedMemory"):
            operation()
    assert (shm.size, shm.address) == (10, name)  # as multiprocessing keeps them
    shm.unlink()


def test_context_manager_unlinks_on_close(name):
    with ipc.SharedMemory.create(name, 10, unlink_on_close=True) as shm:
        assert ipc.shm_stat(name).size == 10
    assert shm.closed
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)


def test_finaliser_closes_a_forgotten_object(name):
    shm = ipc.SharedMemory.create(name, 10, unlink_on_close=True)
    inode = inode_of(name)
    assert mappings_of(inode) == 1
    del shm  # CPython collects it at once: no gc.collect() needed
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)
    assert mappings_of(inode) == 0


def test_views_keep_the_mapping_alive(name):
    with ipc.SharedMemory.create(name, 4096, unlink_on_close=True) as owner:
        inode = inode_of(name)
        shm = ipc.SharedMemory.open(name)
        view = shm.buf[10:20]
        whole = memoryview(shm)
        assert mappings_of(inode) == 2
        shm.close()
        del shm
        gc.collect()
        view[0] = 1  # still mapped: no crash, and still shared
        whole[11] = 2
        assert owner[10:12] == b"\x01\x02"
        del whole
        assert mappings_of(inode) == 2
        del view
        assert mappings_of(inode) == 1  # the last view gone, the mapping goes


def test_forked_child_leaves_the_name_to_its_parent(name, child):
    shm = ipc.SharedMemory.create(name, 10, unlink_on_close=True)

    def drop():
        global inherited
        inherited = None  # the child's copy of the object goes
        gc.collect()

    global inherited
    inherited, shm = shm, None
    assert child(drop) == 0
    assert ipc.shm_stat(name).size == 10
    assert child(inherited.close) == 0
    assert ipc.shm_stat(name).size == 10
    inherited.close()
    inherited = None
    with pytest.raises(FileNotFoundError):
        ipc.shm_stat(name)


def test_same_class_makes_the_same_kind_of_object(name):
    with ipc.SharedMemory.create(name, 10, unlink_on_close=True) as shm:
        with type(shm)(name) as again:
            assert type(again) is type(shm) and type(again).__bases__[0] is ipc.SharedMemory


def test_unlink_on_close_spares_a_new_object_under_the_name(name):
    shm = ipc.SharedMemory.create(name, 10, unlink_on_close=True)
    ipc.shm_unlink(name)
    with ipc.SharedMemory.create(name, 20) as newer:
        shm.close()  # must not remove the other object
        assert ipc.shm_stat(name).size == 20
        newer.unlink()


def test_no_handle_leak_over_many_cycles(name):
    def count():
        return len(os.listdir("/proc/self/fd")), mappings_of(inode_of(name))

    with ipc.SharedMemory.create(name, 4096, unlink_on_close=True):
        before = count()
        for _ in range(10_000):
            with ipc.SharedMemory.open(name) as shm:
                shm[0] = 1
        del shm  # a closed object keeps its mapping while it lives (see the class)
        assert count() == before


# Information, permissions


def test_info_chmod_and_stat(name):
    old = os.umask(0o077)
    try:
        shm = ipc.SharedMemory.create(name, 100, mode=0o640, unlink_on_close=True)
    finally:
        os.umask(old)
    with shm:
        info = shm.info()
        assert isinstance(info, ipc.ShmInfo)
        assert (info.size, info.kind, info.mode, info.uid, info.nattch, info.id) == (100, "posix", 0o640,
                                                                                     os.getuid(), -1, -1)
        shm.chmod(0o644)
        assert ipc.SharedMemory.stat(name).mode == 0o644
        shm.chmod(0o004)  # owner read and write are kept
        assert shm.info().mode == 0o604
        with pytest.raises(OSError) as raised:
            shm.chmod(0o1000)
        assert raised.value.errno == errno.EINVAL


# The binding's declarations


def test_every_prototype_is_set_on_the_library():
    assert {"ipc_shm_open", "ipc_shm_create", "ipc_last_error", "ipc_shm_info_size"} <= set(_capi.PROTOTYPES)
    for function, (restype, argtypes) in _capi.PROTOTYPES.items():
        loaded = getattr(_capi.lib, function)
        assert loaded.restype is restype and loaded.argtypes == argtypes
    assert _capi.CONSTANTS["IPC_RDONLY"] == ipc.IPC_RDONLY == 1
    assert _capi.CONSTANTS["IPC_ADDRESS_MAX"] == 272
    assert ctypes.sizeof(ipc.shm.ipc_shm_info) == 80


def test_version_and_page_size():
    assert ipc.__version__ == "%d.%d.%d" % ipc.version()
    assert ipc.version()[0] == _capi.CONSTANTS["IPC_VERSION_MAJOR"]
    assert ipc.page_size() == os.sysconf("SC_PAGE_SIZE")


def run_python(code, **env):
    environment = {k: v for k, v in os.environ.items() if k != "IPC_LIBRARY"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)


def test_library_named_by_environment_must_load():
    result = run_python("import ipc", PYTHONPATH=os.path.join(ROOT, "bindings", "python"),
                        IPC_LIBRARY="/nonexistent/libipc.so.1")
    assert result.returncode == 1
    assert "ImportError: ipc: cannot load libipc (set IPC_LIBRARY" in result.stderr
    assert "/nonexistent/libipc.so.1" in result.stderr


def test_library_found_next_to_the_package(tmp_path):
    package = tmp_path / "ipc"
    package.mkdir()
    for entry in os.listdir(os.path.dirname(ipc.__file__)):
        if entry.endswith(".py") and entry != "_paths.py":
            (package / entry).write_bytes(open(os.path.join(os.path.dirname(ipc.__file__), entry), "rb").read())
    (package / "libipc.so.1").symlink_to(os.path.realpath(_capi.path))
    result = run_python("import ipc; print(ipc.library_path)", PYTHONPATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(package / "libipc.so.1")


def test_guide_example_runs(guide_example):
    out = guide_example("shm", guide="python.md")
    assert "read from /ipc-example-" in out and '"hello from process' in out
