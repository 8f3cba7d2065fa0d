"""Mutex, Condition and RWLock through the Python binding, across processes."""

import errno
import gc
import math
import os
import pickle
import signal
import time
import traceback

import pytest

import ipc
from ipc import _capi, sync

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Holder:
    """A forked process that opens a lock with `get()`, takes it with its
    method `how` and keeps it: until let_go(), for `seconds`, or until it
    dies (`die=True`: SIGKILL while holding)."""

    def __init__(self, get, how="acquire", seconds=None, die=False):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(ready_r)
                lock = get()
                assert getattr(lock, how)() is True
                os.write(ready_w, b"1")
                if die:
                    os.kill(os.getpid(), signal.SIGKILL)
                if seconds is None:
                    os.read(go_r, 1)
                else:
                    time.sleep(seconds)
                lock.release()
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(ready_w)
        os.close(go_r)
        got = os.read(ready_r, 1)
        os.close(ready_r)
        assert got == b"1", "the holder failed to take the lock"
        self.pid, self._go = pid, go_w

    def let_go(self):
        """Tells the holder to release, waits for it; returns its exit status."""
        try:
            os.write(self._go, b"x")
        except BrokenPipeError:
            pass
        return self.join()

    def join(self):
        os.close(self._go)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def later(delay, action):
    """Runs action() in a forked process after `delay` seconds; returns its
    pid. The process exits 0, or 1 when action() raised."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            time.sleep(delay)
            action()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def reap(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def shared(name, size=4096):
    return ipc.SharedMemory.create(name, size, unlink_on_close=True)


def counter(shm, at=256):
    """The shared 64-bit counter at offset `at` (read and written in two
    steps, so only a lock keeps increments from getting lost)."""
    return shm.buf[at:at + 8].cast("q")


def expect_errno(code, kind, operation):
    with pytest.raises(OSError) as raised:
        operation()
    assert type(raised.value) is kind and raised.value.errno == code
    assert raised.value.strerror == ipc.last_error() != ""
    return raised.value


def check_spin_setting(lock, nanoseconds):
    """The spin property of a fresh handle: 0, settable, kept on a bad value."""
    assert lock.spin == 0
    lock.spin = nanoseconds
    assert lock.spin == nanoseconds
    expect_errno(errno.EINVAL, OSError, lambda: setattr(lock, "spin", -1))
    assert lock.spin == nanoseconds
    with pytest.raises(TypeError):
        lock.spin = 1.5


# Mutex: mutual exclusion across processes


def test_named_mutex_excludes_other_processes(name, child):
    with ipc.Mutex.create(name, unlink_on_close=True) as m:  # `with` holds the lock
        def other():
            mine = ipc.Mutex.open(name)
            assert mine.acquire(blocking=False) is False
            start = time.monotonic()
            assert mine.acquire(timeout=0.2) is False
            assert 0.2 <= time.monotonic() - start < 5
            mine.close()
        assert child(other) == 0
        assert m.acquire(blocking=False) is False  # this thread holds it: try says busy
    assert m.acquire(blocking=False) is True
    m.release()
    m.close()


def test_mutex_in_shared_memory_counts_exactly(name, child):
    with shared(name) as shm:
        m = ipc.Mutex.init(shm, 64)
        assert m.offset == 64 and m.name is None

        def add(times):
            with ipc.SharedMemory.open(name) as mine:
                lock = ipc.Mutex.attach(mine, 64)
                count = counter(mine)
                for _ in range(times):
                    with lock:
                        value = count[0]
                        count[0] = value + 1
                count.release()
                lock.close()

        pids = [later(0, lambda: add(2000)) for _ in range(2)]
        add(2000)
        assert [reap(pid) for pid in pids] == [0, 0]
        count = counter(shm)
        assert count[0] == 6000
        count.release()
        m.close()


def test_mutex_in_a_private_buffer_keeps_it_alive():
    buffer = bytearray(ipc.Mutex.SIZE + 8)
    m = ipc.Mutex.init(buffer, 8)
    with pytest.raises(BufferError):
        buffer.extend(b"x")  # exported: it cannot move under the lock
    del buffer
    gc.collect()
    assert m.acquire() is True
    m.release()
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(m)
    m.close()


def test_sizes_and_alignment():
    assert ipc.Mutex.SIZE == _capi.lib.ipc_mutex_size() > 0
    assert ipc.Condition.SIZE == _capi.lib.ipc_cond_size() > 0
    assert ipc.RWLock.SIZE == _capi.lib.ipc_rwlock_size() > 0
    assert ipc.Mutex.ALIGNMENT == ipc.Condition.ALIGNMENT == ipc.RWLock.ALIGNMENT == 8
    assert _capi.CONSTANTS["IPC_SYNC_ALIGN"] == 8 and _capi.CONSTANTS["IPC_RWLOCK_PREFER_WRITER"] == 0x100


# Robust mutexes: a dead owner


def test_owner_death_is_reported_with_the_lock_held(name, child):
    with shared(name) as shm:
        m = ipc.Mutex.init(shm)
        shm[200] = 1  # "half done" marker the dead owner leaves
        def attached():
            return ipc.Mutex.attach(ipc.SharedMemory.open(name))

        assert Holder(attached, die=True).join() == -signal.SIGKILL
        with pytest.raises(ipc.OwnerDeadError) as raised:
            m.acquire()
        assert raised.value.errno == errno.EOWNERDEAD and isinstance(raised.value, OSError)

        def busy():
            assert attached().acquire(False) is False

        def take_and_exit():
            lock = attached()
            assert lock.acquire(timeout=5) is True
            # Exit with the memory still mapped: the system can mark a robust
            # mutex only where it can still reach it.
            os._exit(0)

        assert child(busy) == 0  # the caller holds it: nobody else gets it
        shm[200] = 0  # the repair
        m.consistent()
        m.release()
        assert child(take_and_exit) == 0
        # That child exited holding it too: a try reports the death as well.
        with pytest.raises(ipc.OwnerDeadError):
            m.acquire(blocking=False)
        m.consistent()
        expect_errno(errno.EINVAL, OSError, m.consistent)  # consistent already
        m.release()
        m.close()


def test_unlocking_without_repair_makes_the_mutex_unusable(name, child):
    m = ipc.Mutex.create(name, unlink_on_close=True)
    Holder(lambda: ipc.Mutex.open(name), die=True).join()
    with pytest.raises(ipc.OwnerDeadError):
        m.acquire(timeout=5)
    m.release()  # without consistent()
    for attempt in (m.acquire, lambda: m.acquire(False), lambda: m.acquire(timeout=1)):
        expect_errno(errno.ENOTRECOVERABLE, OSError, attempt)

    def other():
        with pytest.raises(OSError) as raised:
            ipc.Mutex.open(name).acquire()
        assert raised.value.errno == errno.ENOTRECOVERABLE

    assert child(other) == 0
    m.close()


# Mutex: errors


def test_mutex_misuse(name):
    with ipc.Mutex.create(name, unlink_on_close=True) as m:
        expect_errno(errno.EDEADLK, OSError, m.acquire)
        expect_errno(errno.EDEADLK, OSError, lambda: m.acquire(timeout=1))
    expect_errno(errno.EPERM, PermissionError, m.release)
    with pytest.raises(ValueError, match="non-blocking"):
        m.acquire(False, 1)
    for bad in (-0.5, -2, math.nan):
        with pytest.raises(ValueError, match="non-negative"):
            m.acquire(timeout=bad)
    for bad in ("1", None, True):
        with pytest.raises(TypeError):
            m.acquire(timeout=bad)
    assert m.acquire(timeout=math.inf) and m.acquire(False) is False
    m.release()
    assert m.acquire(timeout=0) is True
    m.release()
    m.close()


def test_names_and_kinds(name):
    expect_errno(errno.ENOENT, FileNotFoundError, lambda: ipc.Mutex.open(name))
    expect_errno(errno.ENOENT, FileNotFoundError, lambda: ipc.RWLock.unlink(name))
    with ipc.Mutex.create(name, unlink_on_close=True) as m:
        expect_errno(errno.EEXIST, FileExistsError, lambda: ipc.Mutex.create(name))
        same = ipc.Mutex.create(name, open_or_create=True)
        assert same.acquire(False) is False  # the same mutex, held through m
        same.close()
        expect_errno(errno.EBADMSG, OSError, lambda: ipc.Condition.open(name))
        expect_errno(errno.EBADMSG, OSError, lambda: ipc.RWLock.create(name, open_or_create=True))
    m.close()
    shm = ipc.SharedMemory.create(name, 4096, unlink_on_close=True)
    expect_errno(errno.EBADMSG, OSError, lambda: ipc.Mutex.open(name))
    expect_errno(errno.EBADMSG, OSError, lambda: ipc.Mutex.attach(shm))
    ipc.Mutex.init(shm).close()
    expect_errno(errno.EBADMSG, OSError, lambda: ipc.RWLock.attach(shm))
    expect_errno(errno.EINVAL, OSError, lambda: ipc.Mutex.attach(shm, 4))  # misaligned
    expect_errno(errno.EINVAL, OSError, lambda: ipc.Mutex.init(shm, 4096 - 8))  # too little room
    shm.close()
    for bad in ("no-slash", "/a/b", "/", "/" + "x" * 300):
        expect_errno(errno.EINVAL, OSError, lambda: ipc.Mutex.create(bad))
    expect_errno(errno.EINVAL, OSError, lambda: ipc.Condition.create(name, mode=0o1000))
    with pytest.raises(TypeError, match="name must be str or bytes"):
        ipc.Mutex.create(42)
    with pytest.raises(TypeError, match=r"use Mutex.create\(\)"):
        ipc.Mutex()
    with pytest.raises(TypeError, match=r"use RWLock.create\(\)"):
        ipc.RWLock(name)


def test_memory_arguments(name):
    with pytest.raises(TypeError, match="writable buffer, not a read-only one"):
        ipc.Mutex.init(bytes(100))
    with pytest.raises(TypeError, match="not int"):
        ipc.Mutex.init(5)
    with pytest.raises(ValueError, match="must not be negative"):
        ipc.Mutex.init(bytearray(100), -8)
    with pytest.raises(ValueError, match="beyond the 100 bytes"):
        ipc.Mutex.init(bytearray(100), 108)
    with shared(name) as shm, ipc.SharedMemory.open(name, readonly=True) as ro:
        with pytest.raises(ValueError, match="read-only"):
            ipc.Mutex.attach(ro)
        shm.close()
        with pytest.raises(ValueError, match="closed SharedMemory"):
            ipc.Mutex.init(shm)


def test_permission_denied_for_another_user(name, child):
    with ipc.Mutex.create(name, mode=0o600, unlink_on_close=True):
        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
            expect_errno(errno.EACCES, PermissionError, lambda: ipc.Mutex.open(name))

        assert child(as_nobody) == 0


def test_spin(name):
    with ipc.Mutex.create(name, unlink_on_close=True) as m:
        m.release()
        check_spin_setting(m, 50_000)
        holder = Holder(lambda: ipc.Mutex.open(name), seconds=0.05)
        assert m.acquire(timeout=10)  # spins, then sleeps until the holder lets go
        assert holder.join() == 0
        m.acquire(False)
    m.close()
    with pytest.raises(ValueError, match="closed Mutex"):
        m.spin


# Waits and signals


def test_a_signal_during_a_wait_runs_its_handler_and_the_wait_completes(name, usr1):
    with ipc.Mutex.create(name, unlink_on_close=True) as m:
        m.release()
        holder = Holder(lambda: ipc.Mutex.open(name), seconds=1.0)
        me = os.getpid()
        sender = later(0.2, lambda: os.kill(me, signal.SIGUSR1))
        start = time.monotonic()
        assert m.acquire() is True  # once the holder lets go
        assert time.monotonic() - start >= 0.3
        assert usr1 == [signal.SIGUSR1]  # the handler ran during the wait
        assert (reap(sender), holder.join()) == (0, 0)


def test_a_signal_keeps_the_timeout(name, usr1):
    with ipc.Mutex.create(name, unlink_on_close=True) as m:
        m.release()
        holder = Holder(lambda: ipc.Mutex.open(name))
        me = os.getpid()
        sender = later(0.15, lambda: os.kill(me, signal.SIGUSR1))
        start = time.monotonic()
        assert m.acquire(timeout=1.0) is False
        assert 1.0 <= time.monotonic() - start < 10
        assert usr1 == [signal.SIGUSR1]
        assert (reap(sender), holder.let_go()) == (0, 0)
        m.acquire()


class Stop(Exception):
    pass


def test_an_exception_from_a_handler_ends_the_wait(name, usr1):
    def stop(signum, frame):
        raise Stop()

    signal.signal(signal.SIGUSR1, stop)
    me = os.getpid()
    with ipc.Mutex.create(name, unlink_on_close=True) as m, ipc.RWLock.create(name + "-rw", unlink_on_close=True) as rw:
        m.release()
        for get, how, wait in ((lambda: ipc.Mutex.open(name), "acquire", m.acquire),
                               (lambda: ipc.RWLock.open(name + "-rw"), "acquire_write",
                                lambda: rw.acquire_read(timeout=30))):
            holder = Holder(get, how)
            sender = later(0.1, lambda: os.kill(me, signal.SIGUSR1))
            start = time.monotonic()
            with pytest.raises(Stop):
                wait()
            assert time.monotonic() - start < 5
            assert (reap(sender), holder.let_go()) == (0, 0)
        m.acquire()


def test_ctrl_c_raises_keyboard_interrupt_in_a_blocked_wait(name):
    with ipc.Mutex.create(name, unlink_on_close=True) as m:
        me = os.getpid()
        sender = later(0.1, lambda: os.kill(me, signal.SIGINT))
        # A child holds nothing here: this thread holds it, so wait on a
        # condition that nobody notifies instead.
        c = ipc.Condition.create(name + "-c", unlink_on_close=True)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            while True:
                c.wait(m)
        assert time.monotonic() - start < 5
        assert reap(sender) == 0
        assert m.acquire(False) is False  # still held by this thread after the wait
        c.close()


# Condition variables


def test_condition_across_processes(name, child):
    with shared(name) as shm:
        m = ipc.Mutex.init(shm, 0)
        c = ipc.Condition.init(shm, 64, mutex=m)
        assert c.mutex is m

        def post():
            time.sleep(0.1)
            with ipc.SharedMemory.open(name) as mine:
                lock = ipc.Mutex.attach(mine, 0)
                cond = ipc.Condition.attach(mine, 64, mutex=lock)
                with cond:  # holds the bound mutex
                    mine[200] = 1
                    cond.notify()

        pid = later(0, post)
        with c:
            assert c.wait_for(lambda: shm[200] == 1, timeout=10) is True
        assert reap(pid) == 0
        with m:
            start = time.monotonic()
            assert c.wait_for(lambda: shm[200] == 2, timeout=0.3) is False
            assert 0.3 <= time.monotonic() - start < 5
            assert c.wait(m, timeout=0) is False
            start = time.monotonic()
            assert c.wait(m, 0.3) is False  # a timed wait is not cut into slices
            assert 0.3 <= time.monotonic() - start < 5
            start = time.monotonic()
            assert c.wait() is True  # without a timeout: back after one slice
            assert time.monotonic() - start < 5
        c.close()
        m.close()


def test_notify_all_wakes_every_waiter(name):
    with shared(name) as shm:
        m = ipc.Mutex.init(shm, 0)
        c = ipc.Condition.init(shm, 64)

        def waiter():
            with ipc.SharedMemory.open(name) as mine:
                lock, cond = ipc.Mutex.attach(mine, 0), ipc.Condition.attach(mine, 64)
                with lock:
                    mine[201] += 1
                    cond.notify()  # to the parent: one more waiter
                    if not cond.wait_for(lambda: mine[200] == 1, timeout=10, mutex=lock):
                        os._exit(2)

        pids = [later(0, waiter) for _ in range(3)]
        with m:
            assert c.wait_for(lambda: shm[201] == 3, timeout=10, mutex=m)
            shm[200] = 1
            c.notify_all()
        assert [reap(pid) for pid in pids] == [0, 0, 0]
        c.notify(0)
        c.notify(2)  # nobody waits: nothing happens
        with pytest.raises(ValueError):
            c.notify(-1)
        c.close()
        m.close()


def test_condition_spin_hands_turns_over_across_processes(name):
    with shared(name) as shm:
        m = ipc.Mutex.init(shm, 0)
        c = ipc.Condition.init(shm, 64, mutex=m)
        check_spin_setting(c, 200_000)
        turns = 200

        def pong():
            with ipc.SharedMemory.open(name) as mine:
                lock = ipc.Mutex.attach(mine, 0)
                cond = ipc.Condition.attach(mine, 64, mutex=lock)
                cond.spin = 200_000
                for _ in range(turns):
                    with cond:
                        if not cond.wait_for(lambda: mine[200] == 1, timeout=10):
                            os._exit(2)
                        mine[200] = 0
                        cond.notify()

        pid = later(0, pong)
        for _ in range(turns):
            with c:
                shm[200] = 1
                c.notify()
                assert c.wait_for(lambda: shm[200] == 0, timeout=10)
        assert reap(pid) == 0
        c.close()
        m.close()
    with pytest.raises(ValueError, match="closed Condition"):
        c.spin


def test_condition_misuse(name):
    m = ipc.Mutex.create(name, unlink_on_close=True)
    c = ipc.Condition.create(name + "-c", unlink_on_close=True)
    expect_errno(errno.EPERM, PermissionError, lambda: c.wait(m, 1))  # m not held
    with pytest.raises(TypeError, match="no mutex"):
        c.wait()
    with pytest.raises(TypeError, match="no mutex"):
        with c:
            pass
    with pytest.raises(TypeError, match="not float"):
        c.wait(1.5)  # threading.Condition's positional timeout: here the mutex comes first
    with pytest.raises(TypeError, match="must be an ipc.Mutex"):
        ipc.Condition.open(name + "-c", mutex=object())
    with m:
        for bad in (-1, math.nan):
            with pytest.raises(ValueError):
                c.wait(m, bad)
    m.close()
    with pytest.raises(ValueError, match="closed Mutex"):
        c.wait(m)
    c.close()
    with pytest.raises(ValueError, match="closed Condition"):
        c.notify()


def test_owner_death_while_waiting_on_a_condition(name):
    m = ipc.Mutex.create(name, unlink_on_close=True)
    c = ipc.Condition.create(name + "-c", unlink_on_close=True, mutex=m)
    m.acquire()
    # The child takes the mutex as soon as the wait below releases it, and
    # dies holding it; the wait then retakes it from a dead owner.
    def grab_and_die():
        lock = ipc.Mutex.open(name)  # kept: a closed handle no longer maps the mutex
        lock.acquire()
        os.kill(os.getpid(), signal.SIGKILL)

    pid = later(0, grab_and_die)
    with pytest.raises(ipc.OwnerDeadError):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            c.wait()  # without a timeout: one slice, then the mutex is retaken
    assert reap(pid) == -signal.SIGKILL
    m.consistent()
    m.release()
    m.close()
    c.close()


# Read/write locks


def test_readers_share_and_writers_exclude(name, child):
    with shared(name) as shm:
        rw = ipc.RWLock.init(shm, 128)

        def probe(read_ok, write_ok):
            def check():
                with ipc.SharedMemory.open(name) as mine:
                    other = ipc.RWLock.attach(mine, 128)
                    got = other.acquire_read(blocking=False)
                    if got:
                        other.release()
                    assert got is read_ok
                    assert other.acquire_write(timeout=0.05) is write_ok
                    if write_ok:
                        other.release()
            return child(check)

        assert probe(True, True) == 0
        with rw.read():
            assert probe(True, False) == 0
        with rw.write():
            assert probe(False, False) == 0
            expect_errno(errno.EDEADLK, OSError, rw.acquire_write)
            expect_errno(errno.EDEADLK, OSError, rw.acquire_read)
        expect_errno(errno.EPERM, PermissionError, rw.release)
        holder = Holder(lambda: ipc.RWLock.attach(ipc.SharedMemory.open(name), 128), "acquire_write", seconds=0.3)
        with pytest.raises(TimeoutError):
            with rw.read(timeout=0.05):
                pass
        start = time.monotonic()
        assert rw.acquire_read(timeout=10) is True  # once the holder lets go
        assert time.monotonic() - start < 10
        rw.release()
        assert holder.join() == 0
        with pytest.raises(ValueError, match="non-blocking"):
            rw.acquire_read(False, 0)
        rw.close()


def test_named_rwlock_and_writer_preference(name, child):
    with ipc.RWLock.create(name, unlink_on_close=True, prefer_writer=True) as rw:
        assert rw.acquire_read()
        holder = Holder(lambda: ipc.RWLock.open(name), "acquire_read")

        def writer():
            other = ipc.RWLock.open(name)
            assert other.acquire_write(blocking=False) is False
            assert other.acquire_write(timeout=10) is True  # once both readers let go
            other.release()

        pid = later(0, writer)
        time.sleep(0.1)
        rw.release()
        assert holder.let_go() == 0
        assert reap(pid) == 0
        with ipc.RWLock.create(name + "-2", unlink_on_close=True) as readers_first:
            assert readers_first.acquire_write(False)
            readers_first.release()
    assert rw.closed  # `with rw:` closes the handle, as for other objects


# Handles and lifetime


def test_close_and_finaliser(name):
    m = ipc.Mutex.create(name, unlink_on_close=True)
    assert repr(m) == f"<ipc.Mutex '{name}'>"
    m.close()
    m.close()
    assert m.closed and repr(m) == "<ipc.Mutex closed>"
    for operation in (m.acquire, m.release, m.consistent, m.__enter__):
        with pytest.raises(ValueError, match="operation on a closed Mutex"):
            operation()
    with pytest.raises(FileNotFoundError):
        ipc.Mutex.open(name)
    c = ipc.Condition.create(name, unlink_on_close=True)
    del c  # collected at once: the finaliser closes it and removes the name
    with pytest.raises(FileNotFoundError):
        ipc.Condition.unlink(name)
    rw = ipc.RWLock.create(name)
    rw.close()
    ipc.RWLock.unlink(name)


def test_a_forked_child_leaves_the_name_to_its_parent(name, child):
    rw = ipc.RWLock.create(name, unlink_on_close=True)
    assert child(rw.close) == 0
    with ipc.RWLock.open(name):
        pass
    rw.close()
    with pytest.raises(FileNotFoundError):
        ipc.RWLock.open(name)


def test_a_lock_in_memory_outlives_its_handles(name):
    with shared(name) as shm:
        m = ipc.Mutex.init(shm, 8)
        m.acquire()
        m.close()
        again = ipc.Mutex.attach(shm, 8)
        assert repr(again) == "<ipc.Mutex in memory at offset 8>"
        assert again.acquire(False) is False  # still held by this thread
        again.release()
        again.close()


def test_pickle_reaches_the_same_lock(name):
    with shared(name) as shm:
        c = ipc.Condition.init(shm, 64, mutex=ipc.Mutex.create(name + "-m", unlink_on_close=True))
        copy = pickle.loads(pickle.dumps(c))
        assert type(copy) is ipc.Condition and copy.offset == 64 and copy.mutex.name == name + "-m"
        with copy:
            assert copy.wait(timeout=0) is False
        copy.mutex.close()
        copy.close()
        c.mutex.close()
        c.close()


# The binding's declarations, and the guide


def test_every_lock_function_is_declared():
    header = open(os.path.join(ROOT, "include", "ipc", "sync.h")).read()
    import re

    declared = set(re.findall(r"IPC_API \w+ \*?(ipc_\w+)\(", header))
    assert declared and declared <= set(_capi.PROTOTYPES)
    assert sync._SLICE <= 0.25  # how late a signal handler may run


def test_guide_example_runs(guide_example):
    out = guide_example("sync")
    assert '"hello from process' in out and "recovered" in out
