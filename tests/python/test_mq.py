"""Message queues through the Python binding: across processes, priorities,
readiness for select/selectors, signals during waits, errors, lifetime."""

import errno
import math
import os
import pickle
import select
import selectors
import signal
import time

import pytest

import ipc
from ipc import _errors
from test_sem import Raised, _reap, _sleeping



def exists(name):
    return os.path.exists("/dev/mqueue/" + name[1:])


@pytest.fixture(autouse=True)
def no_queue_left():
    """Fails a test that leaves a queue of this run in /dev/mqueue, and removes it."""
    yield
    import gc

    gc.collect()
    marker = f"ipc-test-{os.getpid()}-"
    left = [entry for entry in os.listdir("/dev/mqueue") if marker in entry]
    for entry in left:
        ipc.mq_unlink("/" + entry)
    if left:
        pytest.fail("left behind: " + ", ".join(left))


def message(i):
    """Message i of the producer: its index, then 0 to 199 bytes of a pattern."""
    body = bytes((i * 7 + k) & 0xFF for k in range(i % 200))
    return i.to_bytes(4, "little") + body


# Across processes


def test_a_thousand_messages_cross_intact(name):
    q = ipc.MessageQueue.create(name, 8, 256, unlink_on_close=True)

    def producer():
        with ipc.MessageQueue.open(name, read=False) as out:
            for i in range(1000):
                out.send(message(i), priority=i % 5, timeout=30)  # blocks while 8 are queued

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            producer()
            code = 0
        finally:
            os._exit(code)
    seen = {}
    buffer = bytearray(q.msgsize)
    for n in range(1000):
        if n % 2:
            data, priority = q.receive(timeout=30)
        else:
            length, priority = q.receive_into(buffer, timeout=30)
            data = bytes(buffer[:length])
        i = int.from_bytes(data[:4], "little")
        assert data == message(i) and priority == i % 5 and i not in seen
        seen[i] = n
    assert _reap(pid) == 0 and sorted(seen) == list(range(1000)) and q.count == 0
    for p in range(5):  # one priority is always delivered in the order sent
        order = [seen[i] for i in range(p, 1000, 5)]
        assert order == sorted(order)
    q.close()


def test_highest_priority_first_then_oldest(name):
    with ipc.MessageQueue.create(name, 10, 16, unlink_on_close=True) as q:
        for data, priority in [(b"a", 1), (b"b", 5), (b"c", 1), (b"", ipc.MessageQueue.PRIORITY_MAX), (b"d", 0)]:
            q.send(data, priority)
        assert q.count == 5
        got = [q.receive() for _ in range(5)]
        assert got == [(b"", 32767), (b"b", 5), (b"a", 1), (b"c", 1), (b"d", 0)]


def test_bytes_like_messages(name):
    numpy = pytest.importorskip("numpy")
    with ipc.MessageQueue.create(name, 10, 64, unlink_on_close=True) as q:
        array = numpy.arange(4, dtype=numpy.int32)
        for data in (b"bytes", bytearray(b"bytearray"), memoryview(b"view"), memoryview(b"0123456789")[::2], array):
            q.send(data)
        assert [q.receive()[0] for _ in range(5)] == [b"bytes", b"bytearray", b"view", b"02468", array.tobytes()]
        q.send(b"x" * 64)  # exactly msgsize
        out = numpy.zeros(64, dtype=numpy.uint8)
        assert q.receive_into(out) == (64, 0) and out.tobytes() == b"x" * 64
        q.send(b"y", 3)
        view = memoryview(bytearray(100))
        assert q.receive_into(view) == (1, 3) and view[0] == ord("y")


def test_receive_reuses_one_buffer_and_returns_independent_bytes(name):
    with ipc.MessageQueue.create(name, 4, 32, unlink_on_close=True) as q:
        q.send(b"first")
        q.send(b"second")
        first = q.receive()
        buffer = q._buffer
        second = q.receive()
        assert q._buffer is buffer and len(buffer) == 32
        assert first == (b"first", 0) and second == (b"second", 0)


def test_threads_receiving_through_one_handle(name):
    import threading

    with ipc.MessageQueue.create(name, 4, 256, unlink_on_close=True) as q:
        got = [[], [], []]

        def receiver(mine):
            while True:
                data, _ = q.receive(timeout=30)
                if not data:
                    return
                mine.append(data)

        threads = [threading.Thread(target=receiver, args=(mine,)) for mine in got]
        for thread in threads:
            thread.start()
        for i in range(1, 601):
            q.send(message(i), timeout=30)
        for _ in threads:
            q.send(b"", timeout=30)  # one end marker per thread
        for thread in threads:
            thread.join(30)
        received = sorted(got[0] + got[1] + got[2], key=lambda data: int.from_bytes(data[:4], "little"))
        assert received == [message(i) for i in range(1, 601)]  # none torn by a shared buffer


def test_open_directions_and_pickling(name, child):
    q = ipc.MessageQueue.create(name, 4, 32, unlink_on_close=True)
    sender = ipc.MessageQueue.open(name, read=False)
    receiver = ipc.MessageQueue.open(name.encode(), write=False)
    assert (sender.readable, sender.writable, receiver.readable, receiver.writable) == (False, True, True, False)
    assert receiver.name == name and (receiver.capacity, receiver.msgsize) == (4, 32)
    sender.send(b"one")
    with pytest.raises(OSError) as raised:
        sender.receive(block=False)
    assert type(raised.value) is OSError and raised.value.errno == errno.EBADF
    with pytest.raises(OSError) as raised:
        receiver.send(b"x")
    assert raised.value.errno == errno.EBADF
    with pytest.raises(ValueError, match="reading, writing or both"):
        ipc.MessageQueue.open(name, read=False, write=False)
    again = pickle.loads(pickle.dumps(receiver))
    assert (again.readable, again.writable) == (True, False)
    assert again.receive(timeout=5) == (b"one", 0)

    def other():  # a forked child sends through inherited handles and closes them
        sender.send(b"from the child")
        q.close()

    assert child(other) == 0
    assert exists(name)  # the child's close left the name to its parent
    assert receiver.receive(timeout=5) == (b"from the child", 0)
    for handle in (again, receiver, sender, q):
        handle.close()
    assert not exists(name)


# Readiness


def test_select_and_selectors_see_readiness(name, child):
    q = ipc.MessageQueue.create(name, 2, 16, unlink_on_close=True)
    with selectors.DefaultSelector() as selector:
        selector.register(q, selectors.EVENT_READ | selectors.EVENT_WRITE)
        ((key, events),) = selector.select(timeout=0)
        assert key.fileobj is q and events == selectors.EVENT_WRITE  # empty: room, nothing to read

        assert child(lambda: ipc.MessageQueue.open(name, read=False).send(b"ping")) == 0
        ((key, events),) = selector.select(timeout=5)
        assert events == selectors.EVENT_READ | selectors.EVENT_WRITE
        q.send(b"full", block=False)
        ((key, events),) = selector.select(timeout=5)
        assert events == selectors.EVENT_READ  # full: no room
        selector.unregister(q)
    assert select.select([], [q], [], 0) == ([], [], [])
    assert q.receive(block=False) == (b"ping", 0)
    assert select.select([q], [q.fileno()], [], 0) == ([q], [q.fileno()], [])
    q.receive()
    assert select.select([q], [], [], 0.05) == ([], [], [])
    q.close()


# Errors


def test_full_empty_and_timeouts(name):
    q = ipc.MessageQueue.create(name, 1, 8, unlink_on_close=True)
    with pytest.raises(BlockingIOError) as raised:
        q.receive(block=False)
    assert raised.value.errno == errno.EAGAIN
    with pytest.raises(BlockingIOError):
        q.receive_into(bytearray(8), block=False)
    started = time.monotonic()
    with pytest.raises(TimeoutError) as raised:
        q.receive(timeout=0.2)
    assert raised.value.errno == errno.ETIMEDOUT and 0.2 <= time.monotonic() - started < 10
    q.send(b"1", timeout=0)
    with pytest.raises(BlockingIOError) as raised:
        q.send(b"2", block=False)
    assert raised.value.errno == errno.EAGAIN
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        q.send(b"2", timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 10
    with pytest.raises(TimeoutError):
        q.send(b"2", timeout=0)
    for timeout in (-1, math.nan):
        for attempt in (lambda: q.send(b"2", timeout=timeout), lambda: q.receive(timeout=timeout)):
            with pytest.raises(OSError) as raised:
                attempt()
            assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
    assert q.receive(timeout=math.inf) == (b"1", 0)
    for attempt in (lambda: q.send(b"", block=False, timeout=1), lambda: q.receive(block=False, timeout=1)):
        with pytest.raises(ValueError, match="can't specify a timeout when not blocking"):
            attempt()
    q.close()


def test_message_size_and_priority_errors(name):
    q = ipc.MessageQueue.create(name, 2, 8, unlink_on_close=True)
    with pytest.raises(OSError) as raised:
        q.send(b"123456789")
    assert type(raised.value) is OSError and raised.value.errno == errno.EMSGSIZE
    assert raised.value.strerror == _errors.last_error() != ""
    q.send(b"ok")
    with pytest.raises(OSError) as raised:
        q.receive_into(bytearray(7))  # the system wants room for the largest message
    assert type(raised.value) is OSError and raised.value.errno == errno.EMSGSIZE
    assert q.count == 1  # nothing was taken
    for priority in (ipc.MessageQueue.PRIORITY_MAX + 1, 2**32, 2**70):
        with pytest.raises(OSError) as raised:
            q.send(b"p", priority)
        assert raised.value.errno == errno.EINVAL
    with pytest.raises(ValueError, match="priority must not be negative"):
        q.send(b"p", -1)
    with pytest.raises(TypeError):
        q.send("text")
    with pytest.raises(TypeError):
        q.send(b"p", 1.0)
    with pytest.raises(TypeError, match="not a read-only one"):
        q.receive_into(b"\0" * 8)
    with pytest.raises(TypeError, match="not C contiguous"):
        q.receive_into(memoryview(bytearray(32))[::2])  # not contiguous
    assert q.count == 1
    q.close()


def test_create_open_unlink_and_limits(name):
    with open("/proc/sys/fs/mqueue/msg_default") as f:
        default_capacity = int(f.read())
    with open("/proc/sys/fs/mqueue/msg_max") as f:
        msg_max = int(f.read())
    q = ipc.MessageQueue.create(name, mode=0o640)
    assert (q.capacity, q.msgsize) == (default_capacity, 8192) and q.count == 0
    assert os.stat("/dev/mqueue/" + name[1:]).st_mode & 0o777 == 0o640
    with pytest.raises(FileExistsError) as raised:
        ipc.MessageQueue.create(name)
    assert raised.value.errno == errno.EEXIST and name in raised.value.strerror
    same = ipc.MessageQueue.create(name, 2, 16, open_or_create=True)
    assert (same.capacity, same.msgsize) == (default_capacity, 8192)  # opened as it is
    with pytest.raises(OSError) as raised:
        ipc.MessageQueue.create(name, 2, 9000, open_or_create=True)  # holds less than asked
    assert raised.value.errno == errno.EINVAL
    q.close()
    same.close()
    assert exists(name)  # not unlink_on_close: the name stays
    ipc.MessageQueue.unlink(name)
    with pytest.raises(FileNotFoundError) as raised:
        ipc.mq_unlink(name)
    assert raised.value.errno == errno.ENOENT
    with pytest.raises(FileNotFoundError):
        ipc.MessageQueue.open(name)
    with pytest.raises(OSError) as raised:
        ipc.MessageQueue.create(name, msg_max + 1, 16)
    assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
    assert "msg_max" in raised.value.strerror
    for bad in (dict(capacity=-1), dict(msgsize=-1)):
        with pytest.raises(ValueError, match="must not be negative"):
            ipc.MessageQueue.create(name, **bad)
    with pytest.raises(OSError) as raised:
        ipc.MessageQueue.create(name, mode=0o1777)
    assert raised.value.errno == errno.EINVAL
    with pytest.raises(TypeError, match="name must be str or bytes, not int"):
        ipc.MessageQueue.create(42)
    with pytest.raises(TypeError, match=r"use MessageQueue.create\(\) or MessageQueue.open\(\)"):
        ipc.MessageQueue(name)
    assert not exists(name)


def test_an_opener_may_remove_the_name_on_close(name):
    q = ipc.MessageQueue.create(name, 1, 8)
    opener = ipc.MessageQueue.open(name, write=False, unlink_on_close=True)
    q.close()
    assert exists(name)
    opener.close()
    assert not exists(name)


@pytest.mark.parametrize("bad", ["no-slash", "/a/b", "/", "/" + "x" * 256])
def test_invalid_names(bad):
    for attempt in (lambda: ipc.MessageQueue.create(bad), lambda: ipc.MessageQueue.open(bad),
                    lambda: ipc.MessageQueue.unlink(bad)):
        with pytest.raises(OSError) as raised:
            attempt()
        assert type(raised.value) is OSError and raised.value.errno == errno.EINVAL
        assert raised.value.strerror == _errors.last_error() != ""


def test_permission_denied_for_another_user(name, child):
    q = ipc.MessageQueue.create(name, 2, 8, unlink_on_close=True)

    def as_nobody():
        os.setgid(65534)
        os.setuid(65534)
        with pytest.raises(PermissionError) as raised:
            ipc.MessageQueue.open(name, write=False)
        assert raised.value.errno == errno.EACCES

    assert child(as_nobody) == 0
    q.close()


# Handles and lifetime


def test_close_finaliser_and_closed_objects(name):
    q = ipc.MessageQueue.create(name, 3, 8, unlink_on_close=True)
    assert repr(q) == f"<ipc.MessageQueue '{name}' count=0 capacity=3 msgsize=8>"
    q.close()
    q.close()
    assert q.closed and repr(q) == "<ipc.MessageQueue closed>" and not exists(name)
    assert (q.capacity, q.msgsize, q.name) == (3, 8, name)  # still readable, as shm.size
    for operation in (lambda: q.send(b""), q.receive, lambda: q.receive_into(bytearray(8)),
                      lambda: q.count, q.fileno, q.__enter__):
        with pytest.raises(ValueError, match="operation on a closed MessageQueue"):
            operation()
    forgotten = ipc.MessageQueue.create(name, 1, 8, unlink_on_close=True)
    assert exists(name)
    del forgotten
    assert not exists(name)


def test_no_descriptor_leak_over_many_cycles(name):
    keep = ipc.MessageQueue.create(name, 1, 8, unlink_on_close=True)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(10_000):
        ipc.MessageQueue.open(name).close()
    assert len(os.listdir("/proc/self/fd")) == before
    keep.close()


# Signals during waits


def _signal_later(pid, signum, times, then=None):
    """Forks a process that waits (up to 10 s) for `pid` to sleep, sends it
    `signum` `times` times, 50 ms apart, then runs `then` if given."""
    child = os.fork()
    if child == 0:
        code = 0
        try:
            deadline = time.monotonic() + 10
            while not _sleeping(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            for _ in range(times):
                time.sleep(0.05)
                os.kill(pid, signum)
            if then:
                time.sleep(0.05)
                then()
        except BaseException:
            code = 1
        os._exit(code)
    return child


def test_waits_resume_after_signal_handlers(name, usr1):
    q = ipc.MessageQueue.create(name, 1, 8, unlink_on_close=True)
    child = _signal_later(os.getpid(), signal.SIGUSR1, 3, then=lambda: ipc.MessageQueue.open(name).send(b"late", 2))
    assert q.receive() == (b"late", 2)  # interrupted three times, completes on the send
    assert _reap(child) == 0 and usr1 == [signal.SIGUSR1] * 3
    q.send(b"full")
    child = _signal_later(os.getpid(), signal.SIGUSR1, 2, then=lambda: ipc.MessageQueue.open(name).receive())
    q.send(b"next", timeout=30)  # waits for room across two signals
    assert _reap(child) == 0 and len(usr1) == 5 and q.receive(block=False) == (b"next", 0)
    child = _signal_later(os.getpid(), signal.SIGUSR1, 4)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        q.receive(timeout=0.6)  # signals at 50..200 ms do not restart the clock
    assert _reap(child) == 0 and len(usr1) == 9 and 0.6 <= time.monotonic() - started < 10
    q.close()


def test_exception_of_a_handler_propagates(name):
    def raising(signum, frame):
        raise Raised()

    q = ipc.MessageQueue.create(name, 1, 8, unlink_on_close=True)
    q.send(b"full")
    previous = signal.signal(signal.SIGUSR1, raising)
    try:
        child = _signal_later(os.getpid(), signal.SIGUSR1, 1)
        with pytest.raises(Raised):
            q.send(b"never", timeout=30)
        assert _reap(child) == 0
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert q.receive(block=False) == (b"full", 0) and q.count == 0  # nothing was sent
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        child = _signal_later(os.getpid(), signal.SIGINT, 1)
        with pytest.raises(KeyboardInterrupt):
            q.receive()  # Ctrl-C
        assert _reap(child) == 0
    finally:
        signal.signal(signal.SIGINT, previous)
    q.close()


# The guide


def test_guide_example_runs(guide_example):
    assert guide_example("mq").splitlines() == [
        "3 message(s) queued", "priority 9: urgent: disk full", "priority 5: status update",
        "priority 0: routine report",
    ]
