"""Shared fixtures: unique names, a fork-based helper for cross-process tests,
and a check that no test leaves a shared memory object of this run behind."""

import itertools
import os
import signal
import subprocess
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


@pytest.fixture
def usr1():
    """Records SIGUSR1 deliveries during one test (the list of signals seen);
    the test may install a handler of its own, which is undone after."""
    seen = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    yield seen
    signal.signal(signal.SIGUSR1, previous)


def run_guide_example(area, guide=None):
    """Runs docs/examples/<area>.py with this interpreter and the binding,
    checks that it succeeds and that the guide (docs/<area>.md unless named)
    shows it as it is, and returns what it printed."""
    example = os.path.join(ROOT, "docs", "examples", area + ".py")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings", "python"))
    result = subprocess.run([sys.executable, example], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = open(os.path.join(ROOT, "docs", guide or area + ".md")).read()
    shown = text.split(f"`docs/examples/{area}.py`):\n\n```python\n", 1)[1].split("```", 1)[0]
    assert shown in open(example).read()
    return result.stdout


@pytest.fixture
def guide_example():
    """The run_guide_example helper, as a fixture."""
    return run_guide_example


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
