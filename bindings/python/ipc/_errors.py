"""Errors: negated errno codes from the C library become OSError subclasses."""

import errno

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
