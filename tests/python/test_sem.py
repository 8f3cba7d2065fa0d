"""Semaphores through the Python binding: named and in memory, across
processes, threading.Semaphore's interface, signals during waits, errors."""

import ctypes
import errno
import gc
import math
import mmap
import os
import pickle
import signal
import time

import pytest

import ipc
from ipc import _errors



def exists(name):
    return os.path.exists("/dev/shm/sem." + name[1:])


# Across processes


def test_named_semaphore_across_processes(name, child):
    with_name = ipc.Semaphore.create(name, 0, unlink_on_close=True)
    try:
        def other():
            mine = ipc.Semaphore.open(name)
            mine.post()
            mine.post()
            mine.close()

        assert child(other) == 0
        assert with_name.value == 2
        with_name.wait(timeout=10)
        assert with_name.acquire(timeout=10) and with_name.value == 0
    finally:
        with_name.close()
    assert not exists(name)


def test_semaphores_in_shared_memory_play_ping_pong(name):
    with ipc.SharedMemory.create(name, 4096, unlink_on_close=True) as shm:
        ping = ipc.Semaphore.init(shm, 0, 0)
        pong = ipc.Semaphore.init(shm, 64, 0)
        assert (ping.offset, pong.offset, ping.name) == (0, 64, None)

        def other():
            with ipc.SharedMemory.open(name) as mine:  # its own mapping
                my_ping, my_pong = ipc.Semaphore.attach(mine, 0), ipc.Semaphore.attach(mine, 64)
                for _ in range(3):
                    my_ping.wait(timeout=10)
                    my_pong.post()
                my_ping.close()
                my_pong.close()

        pid = os.fork()
        if pid == 0:
            os._exit(0 if _run(other) else 1)
        for _ in range(3):
            ping.post()
            assert pong.acquire(timeout=10)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        ping.close()
        pong.close()


def _run(function):
    try:
        function()
        return True
    except BaseException:
        import traceback

        traceback.print_exc()
        return False


def test_posix_sem_open_sees_the_same_semaphore(name):
    # A named semaphore is the C library's: sem_open/sem_post reach it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sem_open.restype, libc.sem_open.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    libc.sem_post.argtypes = libc.sem_close.argtypes = [ctypes.c_void_p]
    with_name = ipc.Semaphore.create(name, 5, unlink_on_close=True)
    theirs = libc.sem_open(name.encode(), 0)
    assert theirs not in (None, ctypes.c_void_p(-1).value)
    assert libc.sem_post(theirs) == 0 and libc.sem_close(theirs) == 0
    assert with_name.value == 6
    with_name.close()


def take_and_post(sem, result):
    """Runs in a multiprocessing child: the semaphores arrive pickled."""
    sem.wait(timeout=30)
    result.post()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children_reach_the_same_semaphores(name, method):
    import multiprocessing

    with ipc.SharedMemory.create(name, 4096, unlink_on_close=True) as shm:
        inside = ipc.Semaphore.init(shm, 128, 1)
        named = ipc.Semaphore.create(name + "-done", unlink_on_close=True)
        process = multiprocessing.get_context(method).Process(target=take_and_post, args=(inside, named))
        process.start()
        assert named.acquire(timeout=60)
        process.join(60)
        assert process.exitcode == 0 and inside.value == 0
        assert exists(name + "-done")  # the child's copy did not remove the name
        named.close()
        inside.close()
        assert pickle.loads(pickle.dumps(ipc.Semaphore.init(shm, 256, 4))).value == 4
    with pytest.raises(TypeError, match="private buffer cannot be pickled"):
        pickle.dumps(ipc.Semaphore.init(bytearray(64), 0, 0))


# threading.Semaphore's interface


def test_acquire_release_like_threading(name):
    sem = ipc.Semaphore.create(name, 2, unlink_on_close=True)
    assert sem.acquire() is True and sem.acquire(blocking=True, timeout=1) is True
    assert sem.acquire(blocking=False) is False
    assert sem.acquire(timeout=0) is False
    started = time.monotonic()
    assert sem.acquire(timeout=0.2) is False
    assert 0.2 <= time.monotonic() - started < 10
    with pytest.raises(ValueError, match="can't specify timeout for non-blocking acquire"):
        sem.acquire(False, 1)
    sem.release(3)
    assert sem.value == 3
    with pytest.raises(ValueError, match="n must be one or more"):
        sem.release(0)
    with sem:  # acquires, then releases; does not close
        assert sem.value == 2
    assert sem.value == 3 and not sem.closed
    sem.close()


def test_wait_trywait_and_post(name):
    sem = ipc.Semaphore.create(name, 1, unlink_on_close=True)
    sem.trywait()
    with pytest.raises(BlockingIOError) as raised:
        sem.trywait()
    assert raised.value.errno == errno.EAGAIN
    started = time.monotonic()
    with pytest.raises(TimeoutError) as raised:
        sem.wait(timeout=0.2)
    assert raised.value.errno == errno.ETIMEDOUT and time.monotonic() - started >= 0.2
    with pytest.raises(TimeoutError):
        sem.wait(0)
    sem.post()
    sem.wait(math.inf)
    for timeout in (-1, math.nan):
        with pytest.raises(OSError) as raised:
            sem.wait(timeout)
        assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
        with pytest.raises(OSError):
            sem.acquire(timeout=timeout)
    with pytest.raises(TypeError):
        sem.wait("1")
    sem.close()


def test_constants_and_overflow():
    assert ipc.Semaphore.SIZE == 32 and ipc.Semaphore.ALIGNMENT == 8
    assert ipc.Semaphore.VALUE_MAX == 2**31 - 1
    sem = ipc.Semaphore.init(bytearray(64), 0, ipc.Semaphore.VALUE_MAX)
    assert sem.value == ipc.Semaphore.VALUE_MAX
    with pytest.raises(OSError) as raised:
        sem.post()
    assert type(raised.value) is OSError and raised.value.errno == errno.EOVERFLOW
    with pytest.raises(OSError) as raised:
        ipc.Semaphore.init(bytearray(64), 0, ipc.Semaphore.VALUE_MAX + 1)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(OSError) as raised:
        ipc.Semaphore.init(bytearray(64), 0, 2**40)  # never wraps around to a small value
    assert raised.value.errno == errno.EINVAL
    sem.close()


def test_spin(name, child):
    sem = ipc.Semaphore.create(name, 0, unlink_on_close=True)
    assert sem.spin == 0
    sem.spin = 50_000
    assert sem.spin == 50_000
    with pytest.raises(OSError) as raised:
        sem.spin = -1
    assert raised.value.errno == errno.EINVAL and sem.spin == 50_000
    with pytest.raises(TypeError):
        sem.spin = 1.5

    def other():
        ipc.Semaphore.open(name).post()

    assert child(other) == 0
    assert sem.acquire(timeout=10)  # a spinning wait still takes what was posted
    sem.close()


# Named semaphores: creation, opening, removal


def test_create_open_and_unlink(name):
    first = ipc.Semaphore.create(name, 3, mode=0o640)
    assert os.stat("/dev/shm/sem." + name[1:]).st_mode & 0o777 == 0o640
    with pytest.raises(FileExistsError) as raised:
        ipc.Semaphore.create(name)
    assert raised.value.errno == errno.EEXIST and name in raised.value.strerror
    same = ipc.Semaphore.create(name, 9, open_or_create=True)
    assert same.value == 3 and same.name == name  # value ignored: opened
    other = ipc.Semaphore.open(name.encode())
    assert other.name == name
    for sem in (first, same, other):
        sem.close()
    assert exists(name)  # not unlink_on_close: the name stays
    ipc.Semaphore.unlink(name)
    with pytest.raises(FileNotFoundError) as raised:
        ipc.sem_unlink(name)
    assert raised.value.errno == errno.ENOENT
    with pytest.raises(FileNotFoundError):
        ipc.Semaphore.open(name)


def test_unlink_on_close_and_forked_children(name, child):
    sem = ipc.Semaphore.create(name, unlink_on_close=True)
    assert child(sem.close) == 0  # a forked child closing its copy
    assert exists(name)
    sem.close()
    assert not exists(name)


@pytest.mark.parametrize("bad, kind", [
    ("no-slash", OSError), ("/a/b", OSError), ("/", OSError), ("/" + "x" * 252, OSError),
])
def test_invalid_names(bad, kind):
    for attempt in (lambda: ipc.Semaphore.create(bad), lambda: ipc.Semaphore.open(bad),
                    lambda: ipc.Semaphore.unlink(bad)):
        with pytest.raises(OSError) as raised:
            attempt()
        assert type(raised.value) is kind and raised.value.errno == errno.EINVAL
        assert raised.value.strerror == _errors.last_error() != ""


def test_invalid_arguments(name):
    with pytest.raises(OSError) as raised:
        ipc.Semaphore.create(name, mode=0o1777)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(OSError) as raised:
        ipc.Semaphore.create(name, ipc.Semaphore.VALUE_MAX + 1)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(ValueError, match="must not be negative"):
        ipc.Semaphore.create(name, -1)
    with pytest.raises(TypeError, match="name must be str or bytes, not int"):
        ipc.Semaphore.create(42)
    with pytest.raises(TypeError):
        ipc.Semaphore.create(name, 1.5)
    with pytest.raises(TypeError, match=r"use Semaphore.create\(\), open\(\), init\(\) or attach\(\)"):
        ipc.Semaphore(name)
    assert not exists(name)


def test_permission_denied_for_another_user(name, child):
    sem = ipc.Semaphore.create(name, mode=0o600, unlink_on_close=True)

    def as_nobody():
        os.setgid(65534)
        os.setuid(65534)
        with pytest.raises(PermissionError) as raised:
            ipc.Semaphore.open(name)
        assert raised.value.errno == errno.EACCES

    assert child(as_nobody) == 0
    sem.close()


# Semaphores in memory


def test_in_memory_buffers_of_every_kind():
    numpy = pytest.importorskip("numpy")
    page = mmap.mmap(-1, 4096)
    for memory in (bytearray(64), page, numpy.zeros(8, dtype=numpy.int64), memoryview(bytearray(40))):
        sem = ipc.Semaphore.init(memory, 0, 2)
        again = ipc.Semaphore.attach(memory)
        assert again.acquire(False) and sem.value == 1
        sem.close()
        again.close()
    page.close()


def test_in_memory_bad_input(name):
    memory = bytearray(64)
    for offset in (4, 40):  # misaligned; fewer than SIZE bytes left
        for attempt in (lambda: ipc.Semaphore.init(memory, offset), lambda: ipc.Semaphore.attach(memory, offset)):
            with pytest.raises(OSError) as raised:
                attempt()
            assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
    with pytest.raises(OSError) as raised:
        ipc.Semaphore.attach(bytearray(64))  # zeroed: no semaphore there
    assert raised.value.errno == errno.EINVAL and "semaphore" in raised.value.strerror
    with pytest.raises(ValueError, match="offset 65 is beyond the 64 bytes"):
        ipc.Semaphore.init(memory, 65)
    with pytest.raises(ValueError, match="offset must not be negative"):
        ipc.Semaphore.attach(memory, -8)
    with pytest.raises(TypeError, match="not a read-only one"):
        ipc.Semaphore.init(bytes(64))
    with pytest.raises(TypeError, match="SharedMemory or a writable buffer, not int"):
        ipc.Semaphore.init(42)
    with pytest.raises(TypeError):
        ipc.Semaphore.init(memory, 1.0)
    with ipc.SharedMemory.create(name, 64, unlink_on_close=True) as shm:
        ipc.Semaphore.init(shm, 0, 1).close()
        with ipc.SharedMemory.open(name, readonly=True) as readonly:
            with pytest.raises(ValueError, match="mapped read-only"):
                ipc.Semaphore.attach(readonly)
    with pytest.raises(ValueError, match="operation on a closed SharedMemory"):
        ipc.Semaphore.attach(shm)


def test_semaphore_keeps_its_memory_alive(name):
    shm = ipc.SharedMemory.create(name, 4096, unlink_on_close=True)
    sem = ipc.Semaphore.init(shm, 8, 1)
    shm.close()  # closed and dropped: the mapping stays while the semaphore lives
    del shm
    gc.collect()
    sem.post()
    assert sem.value == 2 and sem.acquire(False)
    memory = bytearray(64)
    other = ipc.Semaphore.init(memory, 0, 0)
    with pytest.raises(BufferError):
        memory.extend(b"x")  # cannot move under the semaphore
    other.close()
    memory.extend(b"x")  # released with the handle
    sem.close()


# Handles and lifetime


def test_close_is_idempotent_and_closed_objects_refuse(name):
    sem = ipc.Semaphore.create(name, 1, unlink_on_close=True)
    assert repr(sem) == f"<ipc.Semaphore '{name}' value=1>"
    sem.close()
    sem.close()
    assert sem.closed and repr(sem) == "<ipc.Semaphore closed>"
    for operation in (sem.post, sem.wait, sem.trywait, sem.acquire, sem.release, lambda: sem.value,
                      lambda: sem.spin, lambda: setattr(sem, "spin", 1), sem.__enter__):
        with pytest.raises(ValueError, match="operation on a closed Semaphore"):
            operation()
    memory = bytearray(64)
    inside = ipc.Semaphore.init(memory, 0, 3)
    assert repr(inside) == "<ipc.Semaphore in memory at offset 0 value=3>"
    inside.close()
    assert ipc.Semaphore.attach(memory).value == 3  # closing left the semaphore in place


def test_finaliser_closes_a_forgotten_semaphore(name):
    sem = ipc.Semaphore.create(name, unlink_on_close=True)
    del sem
    assert not exists(name)


def test_no_handle_leak_over_many_cycles(name):
    def count():
        with open("/proc/self/maps") as maps:
            return len(os.listdir("/proc/self/fd")), sum(1 for _ in maps)

    keep = ipc.Semaphore.create(name, unlink_on_close=True)
    before = count()
    for _ in range(10_000):
        ipc.Semaphore.open(name).close()
    assert count() == before
    keep.close()


# Signals during waits


def _sleeping(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "S"


def _signal_later(pid, signum, times, then_post=None, when_blocked=False):
    """Forks a process that sends `signum` to `pid` `times` times, 50 ms
    apart, then posts `then_post` (a semaphore name) if given. With
    when_blocked, it first waits (up to 10 s) for `pid` to sleep, so that an
    exception raised by the handler comes out of the wait under test."""
    child = os.fork()
    if child == 0:
        code = 0
        try:
            deadline = time.monotonic() + 10
            while when_blocked and not _sleeping(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            for _ in range(times):
                time.sleep(0.05)
                os.kill(pid, signum)
            if then_post:
                time.sleep(0.05)
                ipc.Semaphore.open(then_post).post()
        except BaseException:
            code = 1
        os._exit(code)
    return child


def _reap(child):
    return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])


def test_wait_resumes_after_signal_handlers(name, usr1):
    sem = ipc.Semaphore.create(name, unlink_on_close=True)
    child = _signal_later(os.getpid(), signal.SIGUSR1, 3, then_post=name)
    sem.wait()  # interrupted three times, completes on the post
    assert _reap(child) == 0 and usr1 == [signal.SIGUSR1] * 3 and sem.value == 0
    child = _signal_later(os.getpid(), signal.SIGUSR1, 2, then_post=name)
    assert sem.acquire(timeout=30)
    assert _reap(child) == 0 and len(usr1) == 5
    sem.close()


def test_timeout_keeps_its_meaning_across_signals(name, usr1):
    sem = ipc.Semaphore.create(name, unlink_on_close=True)
    child = _signal_later(os.getpid(), signal.SIGUSR1, 4)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        sem.wait(timeout=0.6)  # signals at 50..200 ms do not restart the clock
    elapsed = time.monotonic() - started
    assert _reap(child) == 0 and len(usr1) == 4
    assert 0.6 <= elapsed < 10
    sem.close()


class Raised(Exception):
    pass


def test_exception_of_a_handler_propagates(name):
    def raising(signum, frame):
        raise Raised()

    sem = ipc.Semaphore.create(name, unlink_on_close=True)
    previous = signal.signal(signal.SIGUSR1, raising)
    try:
        child = _signal_later(os.getpid(), signal.SIGUSR1, 1, when_blocked=True)
        with pytest.raises(Raised):
            sem.acquire(timeout=30)
        assert _reap(child) == 0
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert sem.value == 0  # nothing was taken
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        child = _signal_later(os.getpid(), signal.SIGINT, 1, when_blocked=True)
        with pytest.raises(KeyboardInterrupt):
            sem.wait()  # Ctrl-C
        assert _reap(child) == 0
    finally:
        signal.signal(signal.SIGINT, previous)
    sem.close()


# The guide


def test_guide_example_runs(guide_example):
    assert guide_example("sem").splitlines() == ["ping 1", "pong 1", "ping 2", "pong 2", "ping 3", "pong 3", "done"]
