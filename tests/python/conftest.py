"""Shared fixtures: unique names, a fork-based helper for cross-process tests,
and a check that no test leaves a shared memory object of this run behind."""

import itertools
import os
import sys
import traceback

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tools/dev sets PYTHONPATH and IPC_LIBRARY; these defaults serve a bare
# `pytest tests/python` in a checkout built in build/.
if os.path.exists(os.path.join(ROOT, "build", "libipc.so.1")):
    os.environ.setdefault("IPC_LIBRARY", os.path.join(ROOT, "build", "libipc.so.1"))
if not any(os.path.exists(os.path.join(p, "ipc", "_capi.py")) for p in sys.path if p):
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

_counter = itertools.count()
_children = set()


def unique_name(tag="py"):
    """"/ipc-test-<pid>-<tag>-<n>", as the C tests name theirs."""
    return f"/ipc-test-{os.getpid()}-{tag}-{next(_counter)}"


@pytest.fixture
def name(request):
    """A POSIX name no other test or run uses."""
    return unique_name(request.node.name[:40].replace("/", "_").replace("[", "_").replace("]", ""))


def in_child(function, *args):
    """Runs function(*args) in a forked child and returns its exit status:
    0 when it returned, 1 when it raised (the traceback goes to stderr), or
    -N when signal N killed it. The child ends with os._exit, so it runs no
    finaliser of the parent's objects."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            function(*args)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    _children.add(pid)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.fixture
def child():
    """The in_child helper, as a fixture."""
    return in_child


def _sysv_segments():
    """{shmid: (cpid, marked for removal)} of every System V segment."""
    segments = {}
    with open("/proc/sysvipc/shm") as table:
        next(table)
        for line in table:
            fields = line.split()
            segments[int(fields[1])] = (int(fields[4]), bool(int(fields[2], 8) & 0o1000))
    return segments


@pytest.fixture(autouse=True)
def no_leftovers():
    """Fails a test that leaves a POSIX object of this run in /dev/shm, or a
    System V segment made by this process or its children, and removes it."""
    before = set(_sysv_segments())
    yield
    import gc

    gc.collect()  # finalisers of forgotten objects run now
    left = []
    marker = f"ipc-test-{os.getpid()}-"
    for entry in os.listdir("/dev/shm"):
        if marker in entry:
            left.append("/dev/shm/" + entry)
            os.unlink("/dev/shm/" + entry)
    ours = _children | {os.getpid()}
    for shmid, (cpid, removed) in _sysv_segments().items():
        if shmid not in before and cpid in ours and not removed:
            left.append(f"shmid:{shmid}")
            import ipc

            ipc.shm_unlink(f"shmid:{shmid}")
    if left:
        pytest.fail("left behind: " + ", ".join(left))
