"""Signals (ipc/sig.h): what Python's own `signal` module lacks.

Python's `signal` module already blocks, waits and installs Python handlers.
This module adds signal sets as objects (:class:`SigSet`), values sent with a
signal (:func:`sigqueue`, and :class:`SigInfo` with the value, sender pid and
uid from :func:`sigwait`), :func:`sigsuspend`, signal descriptors
(:func:`signalfd`), the recording handler of libipc for counting deliveries
without running Python code inside a handler, and actions saved and restored
whatever installed them (:func:`sigaction`).

Signals are given as numbers (``signal.SIGUSR1`` works), or as names
(``"USR1"``, ``"SIGRTMIN+3"``). Installing a Python function as a C signal
handler is deliberately not offered: ``signal.signal`` does that safely.
"""

import ctypes
import dataclasses
import errno
import operator
import signal as _signal
from ctypes import POINTER, byref, c_char, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_uint32, c_uint64, c_void_p

from ._capi import const, encode, fn
from ._errors import call_blocking, check
from ._handle import Handle

IPC_SIG_BLOCK = const("IPC_SIG_BLOCK", 0)
IPC_SIG_UNBLOCK = const("IPC_SIG_UNBLOCK", 1)
IPC_SIG_SETMASK = const("IPC_SIG_SETMASK", 2)
IPC_SIG_ACTION_DEFAULT = const("IPC_SIG_ACTION_DEFAULT", 0)
IPC_SIG_ACTION_IGNORE = const("IPC_SIG_ACTION_IGNORE", 1)
IPC_SIG_ACTION_HANDLER = const("IPC_SIG_ACTION_HANDLER", 2)
IPC_SIG_ACTION_INFO = const("IPC_SIG_ACTION_INFO", 3)
IPC_SIG_ACTION_RECORD = const("IPC_SIG_ACTION_RECORD", 4)
IPC_SIG_ACTION_FOREIGN = const("IPC_SIG_ACTION_FOREIGN", 5)
IPC_SA_RESTART = const("IPC_SA_RESTART", 1)
IPC_SA_NODEFER = const("IPC_SA_NODEFER", 2)
IPC_SA_RESETHAND = const("IPC_SA_RESETHAND", 4)
IPC_SA_ONSTACK = const("IPC_SA_ONSTACK", 8)
IPC_SA_NOCLDSTOP = const("IPC_SA_NOCLDSTOP", 16)
IPC_SA_NOCLDWAIT = const("IPC_SA_NOCLDWAIT", 32)
IPC_SIG_FD_NONBLOCK = const("IPC_SIG_FD_NONBLOCK", 1)
IPC_SIG_NAME_MAX = const("IPC_SIG_NAME_MAX", 16)

# Python's names for the flags of an action, as the flag of the same name.
SA_RESTART, SA_NODEFER, SA_RESETHAND = IPC_SA_RESTART, IPC_SA_NODEFER, IPC_SA_RESETHAND
SA_ONSTACK, SA_NOCLDSTOP, SA_NOCLDWAIT = IPC_SA_ONSTACK, IPC_SA_NOCLDSTOP, IPC_SA_NOCLDWAIT

# sigprocmask takes the signal module's constants.
SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = _signal.SIG_BLOCK, _signal.SIG_UNBLOCK, _signal.SIG_SETMASK
_HOW = {SIG_BLOCK: IPC_SIG_BLOCK, SIG_UNBLOCK: IPC_SIG_UNBLOCK, SIG_SETMASK: IPC_SIG_SETMASK}

_KINDS = {IPC_SIG_ACTION_DEFAULT: "default", IPC_SIG_ACTION_IGNORE: "ignore",
          IPC_SIG_ACTION_HANDLER: "handler", IPC_SIG_ACTION_INFO: "info",
          IPC_SIG_ACTION_RECORD: "record", IPC_SIG_ACTION_FOREIGN: "foreign"}


class ipc_siginfo(ctypes.Structure):
    """struct ipc_siginfo, 40 bytes, field for field."""

    _fields_ = [
        ("signo", c_int32),
        ("code", c_int32),
        ("errnum", c_int32),
        ("pid", c_int32),
        ("uid", c_uint32),
        ("status", c_int32),
        ("value", c_int64),
        ("addr", c_uint64),
    ]


_set_new = fn("ipc_sigset_new", c_int, POINTER(c_void_p))
_set_copy = fn("ipc_sigset_copy", c_int, POINTER(c_void_p), c_void_p)
_set_free = fn("ipc_sigset_free", c_int, c_void_p)
_set_empty = fn("ipc_sigset_empty", c_int, c_void_p)
_set_fill = fn("ipc_sigset_fill", c_int, c_void_p)
_set_add = fn("ipc_sigset_add", c_int, c_void_p, c_int)
_set_del = fn("ipc_sigset_del", c_int, c_void_p, c_int)
_set_has = fn("ipc_sigset_has", c_int, c_void_p, c_int)
_set_next = fn("ipc_sigset_next", c_int, c_void_p, c_int)
_mask = fn("ipc_sig_mask", c_int, c_int, c_void_p, c_void_p)
_pending = fn("ipc_sig_pending", c_int, c_void_p)
_action_new = fn("ipc_sigaction_new", c_int, POINTER(c_void_p))
_action_free = fn("ipc_sigaction_free", c_int, c_void_p)
_action_kind = fn("ipc_sigaction_kind", c_int, c_void_p)
_action_flags = fn("ipc_sigaction_flags", c_int, c_void_p)
_action_mask = fn("ipc_sigaction_mask", c_int, c_void_p, c_void_p)
_action = fn("ipc_sig_action", c_int, c_int, c_void_p)
_restore = fn("ipc_sig_restore", c_int, c_int, c_void_p, c_void_p)
_default = fn("ipc_sig_default", c_int, c_int, c_void_p)
_ignore = fn("ipc_sig_ignore", c_int, c_int, c_void_p)
_record = fn("ipc_sig_record", c_int, c_int, c_uint32, c_void_p)
_recorded = fn("ipc_sig_recorded", c_int64, c_int)
_recorded_info = fn("ipc_sig_recorded_info", c_int, c_int, POINTER(ipc_siginfo))
_record_reset = fn("ipc_sig_record_reset", c_int64, c_int)
_queue = fn("ipc_sig_queue", c_int, c_int, c_int, c_int64)
_wait = fn("ipc_sig_wait", c_int, c_void_p, POINTER(ipc_siginfo))
_trywait = fn("ipc_sig_trywait", c_int, c_void_p, POINTER(ipc_siginfo))
_timedwait = fn("ipc_sig_timedwait", c_int, c_void_p, c_double, POINTER(ipc_siginfo))
_suspend = fn("ipc_sig_suspend", c_int, c_void_p)
_fd = fn("ipc_sig_fd", c_int, c_void_p, c_uint32)
_fd_read = fn("ipc_sig_fd_read", c_int, c_int, POINTER(ipc_siginfo))
_rtmin = fn("ipc_sig_rtmin", c_int)
_rtmax = fn("ipc_sig_rtmax", c_int)
_number = fn("ipc_sig_number", c_int, c_char_p)
_name = fn("ipc_sig_name", c_int, c_int, POINTER(c_char), c_size_t)
_info_size = fn("ipc_siginfo_size", c_size_t)

if _info_size() != ctypes.sizeof(ipc_siginfo):
    raise ImportError(f"ipc: ipc_siginfo is {_info_size()} bytes in the library, "
                      f"{ctypes.sizeof(ipc_siginfo)} in the binding")


def SIGRTMIN():
    """The first real-time signal, read from the C library at run time."""
    return _rtmin()


def SIGRTMAX():
    """The last real-time signal (and the largest signal number), read at run time."""
    return _rtmax()


def signal_number(name):
    """The number of a signal from its name: ``"SIGUSR1"``, ``"usr1"``,
    ``"SIGRTMIN+3"``, ``"RTMAX-1"``, or a decimal number. OSError (EINVAL)
    for an unknown name or a number out of range."""
    return check(_number(encode(name)))


def signal_name(signo):
    """The name of a signal: ``"SIGUSR1"``, ``"SIGRTMIN+3"``, ``"SIGRTMAX-1"``;
    :func:`signal_number` turns it back into `signo`."""
    text = ctypes.create_string_buffer(IPC_SIG_NAME_MAX)
    length = check(_name(_signo(signo), text, IPC_SIG_NAME_MAX))
    return text.raw[:length].decode()


def _signo(signal):
    """A signal number from a number or a name."""
    if isinstance(signal, (str, bytes)):
        return signal_number(signal)
    return operator.index(signal)


_NAMED = {int(s): s for s in _signal.Signals}


def _enum(signo):
    """signal.Signals for the numbers it names, the int otherwise (as the
    signal module returns them)."""
    return _NAMED.get(signo, signo)


@dataclasses.dataclass(frozen=True)
class SigInfo:
    """What is known of one delivered signal (see ipc_siginfo). Fields that do
    not apply to how it was sent are 0. `value` is the 64-bit value of
    :func:`sigqueue`; `pid` and `uid` are the sender's."""

    signo: int
    code: int
    errno: int
    pid: int
    uid: int
    status: int
    value: int
    addr: int

    @classmethod
    def _from(cls, info):
        return cls(_enum(info.signo), info.code, info.errnum, info.pid, info.uid, info.status,
                   info.value, info.addr)


class SigSet(Handle):
    """A set of signals, built from any iterable of signal numbers or names.

    It behaves as a mutable set of signals: ``signo in s``, iteration in
    increasing order (as ``signal.Signals`` where the signal module names the
    number), ``len``, ``==`` with another SigSet or any iterable of signals,
    and :meth:`add`, :meth:`discard`, :meth:`remove`, :meth:`clear`,
    :meth:`fill`, :meth:`copy`. A signal number that is not valid (0, above
    SIGRTMAX, or one the C library keeps) raises OSError (EINVAL).
    """

    def __init__(self, signals=()):
        if isinstance(signals, (str, bytes)):  # would iterate over its characters
            raise TypeError("signals must be an iterable of signals, not a string: use [name]")
        out = c_void_p()
        check(_set_new(byref(out)))
        self._own(out.value, _set_free)
        for signal in signals:
            self.add(signal)

    @classmethod
    def full(cls):
        """A set of every valid signal (``sigfillset``)."""
        return cls().fill()

    @classmethod
    def _of(cls, signals):
        """`signals` itself when it is a SigSet, else a new SigSet of them."""
        return signals if isinstance(signals, SigSet) else cls(signals)

    @classmethod
    def _adopt(cls, pointer):
        self = object.__new__(cls)
        self._own(pointer, _set_free)
        return self

    def add(self, signal):
        """Adds a signal."""
        check(_set_add(self._handle(), _signo(signal)))

    def discard(self, signal):
        """Removes a signal if it is a member."""
        check(_set_del(self._handle(), _signo(signal)))

    def remove(self, signal):
        """Removes a signal; KeyError if it is not a member."""
        if signal not in self:
            raise KeyError(signal)
        self.discard(signal)

    def clear(self):
        """Removes every signal (``sigemptyset``)."""
        check(_set_empty(self._handle()))

    def fill(self):
        """Puts every valid signal in the set (``sigfillset``); returns the set."""
        check(_set_fill(self._handle()))
        return self

    def copy(self):
        """A new, independent set with the same members."""
        out = c_void_p()
        check(_set_copy(byref(out), self._handle()))
        return SigSet._adopt(out.value)

    def __contains__(self, signal):
        return bool(check(_set_has(self._handle(), _signo(signal))))

    def __iter__(self):
        pointer, signo = self._handle(), 0
        while True:
            signo = check(_set_next(pointer, signo))
            if signo == 0:
                return
            yield _enum(signo)

    def __len__(self):
        return sum(1 for _ in self)

    def __eq__(self, other):
        if isinstance(other, SigSet):
            return set(self) == set(other)
        try:
            return set(self) == {_signo(s) for s in other}
        except TypeError:
            return NotImplemented

    __hash__ = None  # mutable, as set

    def __reduce__(self):
        return SigSet, ([int(s) for s in self],)

    def _describe(self):
        return "{" + ", ".join(signal_name(s) for s in self) + "}"


def sigprocmask(how, signals=None):
    """Changes the calling thread's mask and returns the previous one as a
    :class:`SigSet` (``pthread_sigmask``). `how` is ``signal.SIG_BLOCK``,
    ``SIG_UNBLOCK`` or ``SIG_SETMASK`` (also ``ipc.SIG_BLOCK`` ...); `signals`
    a SigSet or an iterable of signals, or None to only read the mask.
    SIGKILL and SIGSTOP are silently left out."""
    how = operator.index(how)
    mask = None if signals is None else SigSet._of(signals)
    old = SigSet()
    check(_mask(_HOW.get(how, how), None if mask is None else mask._handle(), old._handle()))
    return old


def sigpending():
    """The signals blocked and waiting to be delivered, as a :class:`SigSet`."""
    pending = SigSet()
    check(_pending(pending._handle()))
    return pending


def sigqueue(pid, signal, value=0):
    """Sends `signal` to process `pid` with a 64-bit signed `value`
    (``sigqueue``); the receiver reads it in :attr:`SigInfo.value`, with this
    process's pid and uid. Real-time signals queue: each one sent arrives.
    BlockingIOError (EAGAIN) when the receiver's queue is full."""
    value = operator.index(value)
    if not -(1 << 63) <= value < (1 << 63):
        raise OverflowError("the value of a signal is a signed 64-bit integer")
    check(_queue(operator.index(pid), _signo(signal), value))


def sigwait(signals, timeout=None):
    """Waits for a signal of `signals` (which should be blocked: see
    :func:`sigprocmask`) and takes it; returns its :class:`SigInfo`.

    With a `timeout` in seconds, raises TimeoutError when none came in time
    (0 polls). A Python signal handler that runs meanwhile (a Ctrl-C, an
    alarm) runs in this thread and the wait goes on with the time left; an
    exception it raises (KeyboardInterrupt) propagates from here."""
    mask, info = SigSet._of(signals), ipc_siginfo()
    if timeout is not None:
        timeout = float(timeout)
    call_blocking(_wait, lambda handle, out, seconds: _timedwait(handle, seconds, out),
                  mask._handle(), byref(info), timeout=timeout)
    return SigInfo._from(info)


def sigtrywait(signals):
    """Takes a pending signal of `signals` without waiting: its
    :class:`SigInfo`, or None when none is pending."""
    mask, info = SigSet._of(signals), ipc_siginfo()  # a name keeps a temporary set alive
    rc = _trywait(mask._handle(), byref(info))
    if rc == -errno.EAGAIN:
        return None
    check(rc)
    return SigInfo._from(info)


def sigsuspend(mask):
    """Replaces the thread's mask by `mask` (a SigSet or iterable of the
    signals to keep blocked) until a signal with a handler arrives and its C
    handler has run, then restores the mask. Python handlers of that signal
    run when this returns. The race-free pattern: block the signal, check the
    condition, then suspend with a mask that lets the signal in."""
    mask = SigSet._of(mask)
    rc = _suspend(mask._handle())
    if rc != -errno.EINTR:  # its normal return, as for sigsuspend
        check(rc)


def signalfd(signals, nonblock=False):
    """A descriptor that becomes readable while a signal of `signals` (which
    should be blocked) is pending, for ``select``, ``selectors`` or
    ``asyncio``'s ``add_reader``. Close-on-exec; close it with ``os.close``.
    Read signals from it with :func:`read_signalfd`."""
    mask = SigSet._of(signals)
    return check(_fd(mask._handle(), IPC_SIG_FD_NONBLOCK if nonblock else 0))


def read_signalfd(fd):
    """Takes one signal from a descriptor of :func:`signalfd` and returns its
    :class:`SigInfo`; BlockingIOError when non-blocking and none is pending."""
    info = ipc_siginfo()
    call_blocking(_fd_read, None, operator.index(fd), byref(info))
    return SigInfo._from(info)


class SigAction(Handle):
    """A signal's action as it was when saved, to be restored later.

    :func:`sigaction` reads one; :func:`default_signal`, :func:`ignore_signal`,
    :func:`record_signal` and :func:`restore_sigaction` return the one they
    replaced. ``restore()`` installs it again (for the signal it was saved
    from), including a handler libipc did not install (Python's own, a test
    framework's): `kind` is then ``"foreign"``.
    """

    def __init__(self):
        out = c_void_p()
        check(_action_new(byref(out)))
        self._own(out.value, _action_free)
        self.signo = None

    @property
    def kind(self):
        """``"default"``, ``"ignore"``, ``"handler"`` or ``"info"`` (a C
        function installed through libipc), ``"record"`` (the recording
        handler), or ``"foreign"`` (installed without libipc)."""
        return _KINDS[check(_action_kind(self._handle()))]

    @property
    def flags(self):
        """The ``SA_RESTART`` ... flags of the action, or-ed."""
        return check(_action_flags(self._handle()))

    @property
    def mask(self):
        """The signals blocked while the action's handler runs, a SigSet."""
        mask = SigSet()
        check(_action_mask(self._handle(), mask._handle()))
        return mask

    def restore(self, signal=None):
        """Installs this action for `signal` (by default the signal it was
        saved from); returns the action replaced."""
        if signal is None:
            if self.signo is None:
                raise ValueError("this action was not saved from a signal: name the signal")
            signal = self.signo
        return restore_sigaction(signal, self)

    def _describe(self):
        return f"{self.kind}" + (f" of {signal_name(self.signo)}" if self.signo else "")


def _replacing(call, signal, *args):
    """Runs call(signo, *args, old) and returns the old action as a SigAction."""
    signo, old = _signo(signal), SigAction()
    check(call(signo, *args, old._handle()))
    old.signo = signo
    return old


def sigaction(signal):
    """The current action of `signal`, as a :class:`SigAction` to restore later."""
    return _replacing(_action, signal)


def restore_sigaction(signal, action):
    """Installs a saved `action` for `signal`; returns the action replaced."""
    if not isinstance(action, SigAction):
        raise TypeError(f"action must be a SigAction, not {type(action).__name__}")
    return _replacing(_restore, signal, action._handle())


def default_signal(signal):
    """Gives `signal` its default action (``SIG_DFL``); returns the action replaced."""
    return _replacing(_default, signal)


def ignore_signal(signal):
    """Ignores `signal` (``SIG_IGN``; a pending one is discarded); returns the
    action replaced."""
    return _replacing(_ignore, signal)


def record_signal(signal, flags=0):
    """Installs libipc's recording handler for `signal`: each delivery is
    counted (:func:`recorded`) and its :class:`SigInfo` kept
    (:func:`last_siginfo`), without running Python code in the handler.
    `flags` are ``ipc.SA_RESTART`` ... or-ed. Returns the action replaced."""
    return _replacing(_record, signal, operator.index(flags))


def recorded(signal):
    """How many times the recording handler ran for `signal` since the last
    :func:`reset_recorded`. Standard signals sent while one is pending merge
    into one delivery; real-time signals are each counted."""
    return check(_recorded(_signo(signal)))


def last_siginfo(signal):
    """The :class:`SigInfo` of the latest delivery the recording handler saw,
    or None when none came since the last reset."""
    info = ipc_siginfo()
    if check(_recorded_info(_signo(signal), byref(info))) == 0:
        return None
    return SigInfo._from(info)


def reset_recorded(signal):
    """Sets the count of `signal` back to 0, forgetting its latest information;
    returns the count before. No delivery is lost between the two."""
    return check(_record_reset(_signo(signal)))
