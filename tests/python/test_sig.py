"""Signals through the Python binding: sets, the mask, sending with a value,
waiting (interrupted by Python handlers too), suspending, signal descriptors,
actions and the recording handler.

Only SIGUSR1, SIGUSR2 and real-time signals are used (Python and pytest own
SIGINT and others); the `signals` fixture restores the mask and the actions
of those after each test and takes any signal a test left pending.
"""

import errno
import math
import os
import pickle
import select
import signal
import time

import pytest

import ipc

RT = ipc.SIGRTMIN()
USED = [signal.SIGUSR1, signal.SIGUSR2] + list(range(RT, RT + 4))
SI_USER, SI_QUEUE = 0, -1


@pytest.fixture(autouse=True)
def signals():
    """Saves the mask and the actions of the signals the tests use; afterwards
    takes what is pending of them and puts everything back."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    actions = {s: ipc.sigaction(s) for s in USED}
    handlers = {s: signal.getsignal(s) for s in (signal.SIGUSR1, signal.SIGUSR2)}
    yield
    signal.pthread_sigmask(signal.SIG_BLOCK, USED)
    while ipc.sigtrywait(USED) is not None:
        pass
    for s, handler in handlers.items():
        signal.signal(s, handler)
    for s, action in actions.items():
        action.restore()
        ipc.reset_recorded(s)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def einval(call, *args):
    with pytest.raises(OSError) as caught:
        call(*args)
    assert type(caught.value) is OSError and caught.value.errno == errno.EINVAL
    return caught.value


def blocked(*sigs):
    """Blocks the signals (the fixture unblocks them)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)


def fork_sending(send, delay=0.0):
    """Forks a child that waits `delay` seconds, then calls send(parent pid)
    and exits; returns its pid."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            time.sleep(delay)
            send(parent)
            code = 0
        finally:
            os._exit(code)
    return pid


def reap(pid):
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# Sets


def test_set_members_from_numbers_and_names():
    s = ipc.SigSet([signal.SIGUSR1, "usr2", "SIGRTMIN+2", RT + 1])
    assert list(s) == [signal.SIGUSR1, signal.SIGUSR2, RT + 1, RT + 2]
    assert isinstance(list(s)[0], signal.Signals)  # as signal.pthread_sigmask gives them
    assert len(s) == 4 and signal.SIGUSR1 in s and "SIGUSR2" in s and signal.SIGUSR1 + 1 not in s
    assert s == {10, 12, RT + 1, RT + 2} and s == ipc.SigSet(s)
    assert not ipc.SigSet() and ipc.SigSet() == []
    assert repr(s) == "<ipc.SigSet {SIGUSR1, SIGUSR2, SIGRTMIN+1, SIGRTMIN+2}>"


def test_set_changes():
    s = ipc.SigSet()
    s.add("USR1")
    s.add(signal.SIGUSR1)  # adding twice changes nothing
    assert list(s) == [signal.SIGUSR1]
    s.discard(signal.SIGUSR2)  # not a member: nothing happens
    with pytest.raises(KeyError):
        s.remove(signal.SIGUSR2)
    s.remove(signal.SIGUSR1)
    assert len(s) == 0
    assert s.fill() is s
    full = list(s)
    assert full[0] == 1 and full[-1] == ipc.SIGRTMAX() and 32 not in full and 33 not in full
    assert full == list(ipc.SigSet.full())
    assert len(full) == 31 + ipc.SIGRTMAX() - RT + 1
    s.clear()
    assert list(s) == []


def test_set_copy_is_independent_and_pickles():
    s = ipc.SigSet(["USR1"])
    c = s.copy()
    c.add("USR2")
    assert list(s) == [signal.SIGUSR1] and list(c) == [signal.SIGUSR1, signal.SIGUSR2]
    assert pickle.loads(pickle.dumps(c)) == c


def test_set_bad_signals():
    s = ipc.SigSet()
    for bad in (0, -1, 32, 33, ipc.SIGRTMAX() + 1):
        einval(s.add, bad)
        einval(s.discard, bad)
        einval(s.__contains__, bad)
    einval(s.add, "SIGNOPE")
    einval(ipc.SigSet, [signal.SIGUSR1, 0])
    with pytest.raises(TypeError):
        ipc.SigSet("USR1")  # a string is not a set of signals
    with pytest.raises(TypeError):
        ipc.sigwait("USR1", timeout=0)
    with pytest.raises(TypeError):
        s.add(None)
    with pytest.raises(TypeError):
        s.add(1.5)
    assert list(s) == []


def test_set_close():
    s = ipc.SigSet(["USR1"])
    with s:
        assert "USR1" in s
    assert s.closed
    with pytest.raises(ValueError):
        list(s)
    with pytest.raises(ValueError):
        s.add("USR2")
    s.close()  # a second close does nothing
    assert repr(s) == "<ipc.SigSet closed>"


# Names and numbers


def test_names_round_trip():
    assert (ipc.SIGRTMIN(), ipc.SIGRTMAX()) == (signal.SIGRTMIN, signal.SIGRTMAX)
    for signo in ipc.SigSet.full():
        assert ipc.signal_number(ipc.signal_name(signo)) == signo
    assert ipc.signal_name(signal.SIGUSR1) == "SIGUSR1"
    assert ipc.signal_name("RTMIN+3") == "SIGRTMIN+3"
    assert ipc.signal_name(ipc.SIGRTMAX() - 1) == "SIGRTMAX-1"
    assert ipc.signal_number("usr2") == ipc.signal_number(b"SIGUSR2") == signal.SIGUSR2
    assert ipc.signal_number("SIGIOT") == signal.SIGABRT
    assert ipc.signal_number("15") == signal.SIGTERM
    assert ipc.signal_number("SIGRTMAX") == ipc.SIGRTMAX()
    for bad in ("", "SIGNOPE", "0", "SIGRTMIN+99", "SIGRTMAX+1", "65"):
        einval(ipc.signal_number, bad)
    for bad in (0, 32, 99):
        einval(ipc.signal_name, bad)
    with pytest.raises(TypeError):
        ipc.signal_number(10)


# The mask


def test_mask_block_unblock_setmask():
    expected = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    before = ipc.sigprocmask(ipc.SIG_BLOCK, ["USR1", RT])
    assert set(before) == expected
    now = ipc.sigprocmask(signal.SIG_BLOCK)  # None: only reads
    assert {signal.SIGUSR1, RT} <= set(now)
    assert set(now) == signal.pthread_sigmask(signal.SIG_BLOCK, [])
    old = ipc.sigprocmask(ipc.SIG_UNBLOCK, ipc.SigSet(["USR1"]))
    assert old == now
    assert signal.SIGUSR1 not in ipc.sigprocmask(ipc.SIG_BLOCK) and RT in ipc.sigprocmask(ipc.SIG_BLOCK)
    ipc.sigprocmask(ipc.SIG_SETMASK, before)
    assert ipc.sigprocmask(ipc.SIG_BLOCK) == before


def test_mask_leaves_out_kill_and_stop():
    ipc.sigprocmask(ipc.SIG_BLOCK, ["KILL", "STOP", "USR2"])
    mask = ipc.sigprocmask(ipc.SIG_BLOCK)
    assert signal.SIGUSR2 in mask and signal.SIGKILL not in mask and signal.SIGSTOP not in mask


def test_mask_bad_how_changes_nothing():
    before = ipc.sigprocmask(ipc.SIG_BLOCK)
    einval(ipc.sigprocmask, 99, ["USR1"])
    einval(ipc.sigprocmask, 99)
    assert ipc.sigprocmask(ipc.SIG_BLOCK) == before
    with pytest.raises(TypeError):
        ipc.sigprocmask("block", ["USR1"])


# Sending with a value, waiting


@pytest.mark.parametrize("value", [0, 42, -1, 2**63 - 1, -(2**63)])
def test_queue_to_self_carries_64_bits(value):
    blocked(RT)
    ipc.sigqueue(os.getpid(), RT, value)
    assert list(ipc.sigpending()) == [RT]
    info = ipc.sigwait([RT], timeout=5)
    assert info == ipc.SigInfo(RT, SI_QUEUE, 0, os.getpid(), os.getuid(), 0, value, 0)
    assert list(ipc.sigpending()) == []


def test_queue_bad_arguments():
    with pytest.raises(OverflowError):
        ipc.sigqueue(os.getpid(), RT, 2**63)
    with pytest.raises(OverflowError):
        ipc.sigqueue(os.getpid(), RT, -(2**63) - 1)
    einval(ipc.sigqueue, os.getpid(), 0, 1)
    einval(ipc.sigqueue, os.getpid(), "SIGNOPE", 1)
    with pytest.raises(ProcessLookupError) as caught:
        ipc.sigqueue(2**22 + 1, RT, 1)  # above pid_max's maximum: never a process
    assert caught.value.errno == errno.ESRCH


def test_wait_for_a_child_queuing_values():
    """A forked child queues real-time signals with values; the parent takes
    every one, in order, with the child's pid and uid."""
    blocked(RT + 1)
    values = [1, -7, 2**40 + 3, 2**63 - 1, 5]
    child = fork_sending(lambda parent: [ipc.sigqueue(parent, RT + 1, v) for v in values], delay=0.1)
    try:
        got = [ipc.sigwait([RT + 1], timeout=10) for _ in values]
    finally:
        reap(child)
    assert [i.value for i in got] == values
    assert {(i.signo, i.code, i.pid, i.uid) for i in got} == {(RT + 1, SI_QUEUE, child, os.getuid())}
    assert ipc.sigtrywait([RT + 1]) is None


def test_wait_without_timeout_and_kill():
    blocked(signal.SIGUSR2)
    child = fork_sending(lambda parent: os.kill(parent, signal.SIGUSR2), delay=0.1)
    try:
        info = ipc.sigwait(["USR2"])
    finally:
        reap(child)
    assert (info.signo, info.code, info.pid, info.value) == (signal.SIGUSR2, SI_USER, child, 0)


def test_wait_times_out():
    blocked(signal.SIGUSR1)
    start = time.monotonic()
    with pytest.raises(TimeoutError) as caught:
        ipc.sigwait(["USR1"], timeout=0.2)
    assert 0.2 <= time.monotonic() - start < 5
    assert caught.value.errno == errno.ETIMEDOUT
    with pytest.raises(TimeoutError):
        ipc.sigwait(["USR1"], timeout=0)  # polls
    einval(ipc.sigwait, ["USR1"], -1)
    einval(ipc.sigwait, ["USR1"], math.nan)


def test_trywait():
    blocked(signal.SIGUSR1)
    assert ipc.sigtrywait(["USR1"]) is None
    os.kill(os.getpid(), signal.SIGUSR1)
    info = ipc.sigtrywait(ipc.SigSet(["USR1", "USR2"]))
    assert (info.signo, info.pid) == (signal.SIGUSR1, os.getpid())
    assert ipc.sigtrywait(["USR1"]) is None


# Python handlers during a wait


def test_python_handler_runs_and_the_wait_completes():
    """Another signal with a Python handler interrupts the wait: the handler
    runs, then the wait goes on and takes the signal it waits for."""
    seen = []
    signal.signal(signal.SIGUSR2, lambda signo, frame: seen.append(signo))
    blocked(signal.SIGUSR1)

    def send(parent):
        os.kill(parent, signal.SIGUSR2)
        time.sleep(0.2)
        os.kill(parent, signal.SIGUSR1)

    child = fork_sending(send, delay=0.1)
    try:
        info = ipc.sigwait(["USR1"], timeout=10)
    finally:
        reap(child)
    assert info.signo == signal.SIGUSR1 and seen == [signal.SIGUSR2]


def test_python_handler_runs_and_the_timeout_keeps_its_meaning():
    seen = []
    signal.signal(signal.SIGUSR2, lambda signo, frame: seen.append(signo))
    blocked(signal.SIGUSR1)
    child = fork_sending(lambda parent: os.kill(parent, signal.SIGUSR2), delay=0.1)
    start = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            ipc.sigwait(["USR1"], timeout=0.5)
    finally:
        reap(child)
    assert 0.5 <= time.monotonic() - start < 5
    assert seen == [signal.SIGUSR2]


class Stop(Exception):
    pass


def test_exception_of_a_python_handler_propagates():
    def handler(signo, frame):
        raise Stop(signo)

    signal.signal(signal.SIGUSR2, handler)
    blocked(signal.SIGUSR1)
    child = fork_sending(lambda parent: os.kill(parent, signal.SIGUSR2), delay=0.1)
    try:
        with pytest.raises(Stop):
            ipc.sigwait(["USR1"])  # no timeout: only the handler ends it
    finally:
        reap(child)


def test_sigint_during_a_wait_raises_keyboard_interrupt():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    blocked(signal.SIGUSR1)
    child = fork_sending(lambda parent: os.kill(parent, signal.SIGINT), delay=0.1)
    try:
        with pytest.raises(KeyboardInterrupt):
            ipc.sigwait(["USR1"], timeout=10)
    finally:
        reap(child)


# Suspending


def test_suspend_until_a_handler_ran():
    ipc.record_signal("USR1")
    blocked(signal.SIGUSR1)
    mask = ipc.sigprocmask(ipc.SIG_BLOCK)
    child = fork_sending(lambda parent: os.kill(parent, signal.SIGUSR1), delay=0.1)
    try:
        while ipc.recorded("USR1") == 0:  # the usual check-then-suspend loop
            let_in = mask.copy()
            let_in.discard("USR1")
            ipc.sigsuspend(let_in)
    finally:
        reap(child)
    assert ipc.recorded("USR1") == 1
    assert ipc.last_siginfo("USR1").pid == child
    assert ipc.sigprocmask(ipc.SIG_BLOCK) == mask  # restored: USR1 blocked again


def test_suspend_runs_a_pending_python_handler():
    seen = []
    signal.signal(signal.SIGUSR2, lambda signo, frame: seen.append(signo))
    blocked(signal.SIGUSR2)
    os.kill(os.getpid(), signal.SIGUSR2)
    assert seen == []
    ipc.sigsuspend([])  # lets the pending signal in: returns at once
    assert seen == [signal.SIGUSR2]
    assert signal.SIGUSR2 in ipc.sigprocmask(ipc.SIG_BLOCK)


# Signal descriptors


def test_signalfd_nonblocking():
    blocked(RT + 2)
    fd = ipc.signalfd([RT + 2], nonblock=True)
    try:
        assert not os.get_inheritable(fd)  # close-on-exec
        with pytest.raises(BlockingIOError):
            ipc.read_signalfd(fd)
        assert select.select([fd], [], [], 0)[0] == []
        ipc.sigqueue(os.getpid(), RT + 2, 1234)
        assert select.select([fd], [], [], 5)[0] == [fd]
        info = ipc.read_signalfd(fd)
        assert (info.signo, info.code, info.value, info.pid) == (RT + 2, SI_QUEUE, 1234, os.getpid())
    finally:
        os.close(fd)


def test_signalfd_blocking_read_from_a_child():
    blocked(RT + 3)
    fd = ipc.signalfd(ipc.SigSet([RT + 3]))
    child = fork_sending(lambda parent: ipc.sigqueue(parent, RT + 3, -99), delay=0.1)
    try:
        info = ipc.read_signalfd(fd)
    finally:
        reap(child)
        os.close(fd)
    assert (info.value, info.pid) == (-99, child)


def test_signalfd_bad_descriptors():
    with pytest.raises(OSError) as caught:
        ipc.read_signalfd(-1)
    assert caught.value.errno == errno.EBADF
    r, w = os.pipe()
    try:
        os.write(w, b"x" * 128)
        einval(ipc.read_signalfd, r)
        assert os.read(r, 200) == b"x" * 128  # its data left alone
    finally:
        os.close(r)
        os.close(w)


# Actions


def test_default_ignore_restore():
    ipc.default_signal("USR1")  # whatever an earlier test left (the fixture restores it)
    first = ipc.sigaction("USR1")
    assert (first.kind, first.signo, first.flags) == ("default", signal.SIGUSR1, 0)
    replaced = ipc.ignore_signal("USR1")
    assert replaced.kind == "default"
    assert ipc.sigaction("USR1").kind == "ignore"
    os.kill(os.getpid(), signal.SIGUSR1)  # ignored: the test goes on
    assert ipc.default_signal(signal.SIGUSR1).kind == "ignore"
    assert ipc.sigaction("USR1").kind == "default"
    assert replaced.restore().kind == "default"
    assert repr(first) == "<ipc.SigAction default of SIGUSR1>"


def test_python_handlers_are_saved_and_restored():
    """Python's own handler is a foreign action: saved, replaced, put back,
    and it still runs afterwards."""
    seen = []
    signal.signal(signal.SIGUSR2, lambda signo, frame: seen.append(signo))
    saved = ipc.default_signal("USR2")
    assert saved.kind == "foreign" and saved.signo == signal.SIGUSR2
    assert ipc.sigaction("USR2").kind == "default"
    ipc.restore_sigaction("USR2", saved)
    after = ipc.sigaction("USR2")
    assert (after.kind, after.flags) == ("foreign", saved.flags)
    os.kill(os.getpid(), signal.SIGUSR2)
    assert seen == [signal.SIGUSR2]
    # Python's SIGINT handler reads the same way and is left alone.
    assert ipc.sigaction(signal.SIGINT).kind == "foreign"


def test_action_flags_and_mask():
    ipc.record_signal(RT, flags=ipc.SA_RESTART | ipc.SA_NODEFER)
    action = ipc.sigaction(RT)
    assert action.kind == "record" and action.flags == ipc.SA_RESTART | ipc.SA_NODEFER
    assert isinstance(action.mask, ipc.SigSet)
    ipc.restore_sigaction(RT + 1, action)  # an action read for any signal
    assert ipc.sigaction(RT + 1).kind == "record"


def test_action_bad_arguments():
    for bad in (signal.SIGKILL, signal.SIGSTOP, 0, 32):
        einval(ipc.default_signal, bad)
        einval(ipc.ignore_signal, bad)
        einval(ipc.record_signal, bad)
    assert ipc.sigaction(signal.SIGKILL).kind == "default"  # readable
    einval(ipc.sigaction, 0)
    einval(ipc.record_signal, "USR1", 1 << 12)  # unknown flag
    einval(ipc.restore_sigaction, signal.SIGKILL, ipc.sigaction("USR1"))
    with pytest.raises(TypeError):
        ipc.restore_sigaction("USR1", "default")
    with pytest.raises(ValueError):
        ipc.SigAction().restore()  # not saved from a signal
    action = ipc.sigaction("USR1")
    action.close()
    with pytest.raises(ValueError):
        action.kind
    with pytest.raises(ValueError):
        ipc.restore_sigaction("USR1", action)


# The recording handler


def test_recording_counts_every_real_time_signal():
    replaced = ipc.record_signal(RT + 1)
    assert replaced.kind == "default"
    assert ipc.recorded(RT + 1) == 0 and ipc.last_siginfo(RT + 1) is None
    blocked(RT + 1)
    for value in range(5):
        ipc.sigqueue(os.getpid(), RT + 1, value)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [RT + 1])  # all five delivered now
    assert ipc.recorded(RT + 1) == 5
    last = ipc.last_siginfo(RT + 1)
    assert (last.signo, last.code, last.value, last.pid) == (RT + 1, SI_QUEUE, 4, os.getpid())
    assert ipc.reset_recorded(RT + 1) == 5
    assert ipc.recorded(RT + 1) == 0 and ipc.last_siginfo(RT + 1) is None


def test_recording_across_processes():
    ipc.record_signal("USR1")
    child = fork_sending(lambda parent: ipc.sigqueue(parent, "USR1", 77))
    reap(child)
    deadline = time.monotonic() + 10
    while ipc.recorded("USR1") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    info = ipc.last_siginfo("USR1")
    assert (ipc.recorded("USR1"), info.pid, info.value, info.uid) == (1, child, 77, os.getuid())


def test_recording_bad_signals():
    for bad in (0, 32, ipc.SIGRTMAX() + 1):
        einval(ipc.recorded, bad)
        einval(ipc.last_siginfo, bad)
        einval(ipc.reset_recorded, bad)


# The guide


def test_guide_example_runs(guide_example):
    lines = guide_example("sig").splitlines()
    assert [line.split(" from ")[0] for line in lines] == ["SIGRTMIN+1"] * 3 + ["SIGUSR1 recorded 1 time(s), last"]
    assert all(line.endswith(f" with value {v}") for line, v in zip(lines, (1000, 2000, 3000)))
