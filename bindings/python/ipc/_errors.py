"""Errors: negated errno codes from the C library become OSError subclasses."""

import errno
import time

from . import _capi


class OwnerDeadError(OSError):
    """The previous owner of a robust lock died holding it (``EOWNERDEAD``).

    The lock IS held by the caller when this is raised: the data it protects
    may be inconsistent. Repair it, then mark the lock consistent (or unlock
    without doing so, which makes the lock unusable for everyone:
    ``ENOTRECOVERABLE``).
    """


def last_error():
    """The calling thread's last libipc failure message, with its context."""
    return _capi.ipc_last_error().decode("utf-8", "replace")


def error(code, message=None):
    """The exception for errno `code` (positive), as Python's os functions
    raise it: ``OSError(code, ...)`` picks the subclass (FileNotFoundError,
    FileExistsError, PermissionError, TimeoutError, BlockingIOError for EAGAIN,
    InterruptedError, and plain OSError for EINVAL and the rest)."""
    if message is None:
        message = last_error() or _capi.ipc_strerror(code).decode()
    if code == errno.EOWNERDEAD:
        return OwnerDeadError(code, message)
    return OSError(code, message)


def check(rc):
    """Returns `rc` when it is not negative, raises the matching OSError otherwise."""
    if rc < 0:
        raise error(-rc)
    return rc


def call_blocking(wait, timedwait, *args, timeout=None):
    """Runs a blocking C call to completion and returns its non-negative result.

    ``wait(*args)`` when `timeout` is None, else ``timedwait(*args, seconds)``.
    A return of -EINTR means a signal handler interrupted the call: returning
    to Python bytecode here runs the Python handlers of pending signals (so a
    Ctrl-C raises KeyboardInterrupt, and any exception a handler raises
    propagates from this call), then the call resumes with the time left,
    measured on time.monotonic(). Other failures raise as check() does.
    """
    if timeout is None:
        while True:
            rc = wait(*args)
            if rc != -errno.EINTR:
                return check(rc)
    deadline = time.monotonic() + timeout
    seconds = timeout
    while True:
        rc = timedwait(*args, seconds)
        if rc != -errno.EINTR:
            return check(rc)
        # The library already rejected a NaN or negative timeout, so the
        # remaining time is a plain number; 0 makes the next call poll once.
        seconds = max(0.0, deadline - time.monotonic())
