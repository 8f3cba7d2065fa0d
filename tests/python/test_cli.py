"""The `ipc` command-line tool: each subcommand, its exit codes, and what it
reports about objects made by this test."""

import gc
import json
import os
import signal
import subprocess
import time

import pytest

import ipc

TOOL = os.path.join(os.path.dirname(os.environ["IPC_LIBRARY"]), "tools", "ipc")


def run(*args, check=None):
    done = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


def listing():
    return {(o["kind"], o["address"]): o for o in json.loads(run("ls", "--json", check=0).stdout)["objects"]}


def test_help_on_every_subcommand():
    for sub in ([], ["ls"], ["info"], ["rm"], ["demo"], ["bench"]):
        done = run(*sub, "--help", check=0)
        assert "Usage" in done.stdout or "usage" in done.stdout.lower()


def test_bad_usage_exits_2():
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("info").returncode == 2  # the address is required
    assert run("rm").returncode == 2  # addresses or --stale
    done = run("info", "/x", "--kind", "banana")
    assert done.returncode == 2
    assert done.stderr


def test_ls_shows_posix_sysv_and_semaphores(name):
    key = 0x1d000000 | (os.getpid() & 0xFFFFFF)
    with ipc.SharedMemory.create(name, 12345, mode=0o640, unlink_on_close=True) as shm, \
            ipc.SharedMemory.create(f"key:{key}", 8192, unlink_on_close=True) as seg:
        sem = ipc.Semaphore.create(name, 3, unlink_on_close=True)
        try:
            objects = listing()
            mine = objects[("shm", name)]
            assert mine["size"] == 12345
            assert mine["mode"] == "0640"
            assert mine["owner"] == "root" or mine["uid"] == os.getuid()
            assert mine["creator_pid"] == os.getpid()
            assert mine["creator_alive"] is True
            assert mine["attached"] >= 1  # this process maps it
            assert mine["stale"] is False
            segment = objects[("sysv", seg.address)]
            assert segment["key"] == key
            assert segment["size"] == 8192
            assert segment["attached"] == 1
            assert segment["creator_pid"] == os.getpid()
            assert objects[("sem", name)]["attached"] >= 1

            info = json.loads(run("info", "--kind", "shm", name, "--json", check=0).stdout)
            assert info["size"] == 12345 and info["address"] == name
            assert json.loads(run("info", f"key:{key}", "--json", check=0).stdout)["shmid"] == int(
                seg.address.split(":")[1])
            # The same name is a shared memory object and a semaphore: ask which.
            done = run("info", name)
            assert done.returncode == 1 and "--kind" in done.stderr
        finally:
            sem.close()


def test_ls_names_what_a_shared_memory_object_holds(name):
    locks = [ipc.Mutex.create(name + "-m", unlink_on_close=True),
             ipc.Condition.create(name + "-c", unlink_on_close=True),
             ipc.RWLock.create(name + "-rw", unlink_on_close=True)]
    with ipc.SharedMemory.create(name, 4096, unlink_on_close=True):
        try:
            objects = listing()
            assert [objects[("shm", name + suffix)]["lock"] for suffix in ("-m", "-c", "-rw")] == [
                "mutex", "condition variable", "read/write lock"]
            assert objects[("shm", name)]["lock"] is None  # plain memory
            assert "condition variable" in run("ls", check=0).stdout
            assert json.loads(run("info", name + "-m", "--json", check=0).stdout)["lock"] == "mutex"
        finally:
            for lock in locks:
                lock.close()


def test_rm_removes_and_never_what_is_attached(name):
    shm = ipc.SharedMemory.create(name, 100)
    try:
        done = run("rm", name)
        assert done.returncode == 1 and "still attached" in done.stderr
        assert ("shm", name) in listing()
    finally:
        shm.close()
        del shm  # the binding unmaps when the object goes
        gc.collect()
    run("rm", name, check=0)
    assert ("shm", name) not in listing()
    done = run("rm", name)
    assert done.returncode == 1 and "no IPC object" in done.stderr


def test_rm_stale_takes_what_a_killed_creator_left_and_spares_the_living(name):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            ipc.SharedMemory.create(name + "-dead", 4096)
            segment = ipc.SharedMemory.create("private", 4096)
            os.write(write, segment.address.encode())
            segment.close()  # detached: nobody attaches it any more
            time.sleep(60)
        finally:
            os._exit(1)
    os.close(write)
    segment = os.read(read, 100).decode()
    os.close(read)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with ipc.SharedMemory.create(name + "-alive", 4096, unlink_on_close=True):
        objects = listing()
        assert objects[("shm", name + "-dead")]["stale"] is True
        assert objects[("shm", name + "-dead")]["creator_alive"] is False
        assert objects[("sysv", segment)]["stale"] is True
        assert objects[("shm", name + "-alive")]["stale"] is False
        dry = run("rm", "--stale", "--dry-run", check=0).stdout
        assert name + "-dead" in dry and name + "-alive" not in dry
        assert ("shm", name + "-dead") in listing()  # a dry run removes nothing
        run("rm", "--stale", check=0)
        objects = listing()
        assert ("shm", name + "-dead") not in objects
        assert ("sysv", segment) not in objects
        assert ("shm", name + "-alive") in objects


@pytest.mark.skipif(not os.path.ismount("/dev/mqueue"), reason="/dev/mqueue is not mounted")
def test_ls_shows_message_queues(name):
    q = ipc.MessageQueue.create(name, capacity=4, msgsize=64, unlink_on_close=True)
    try:
        q.send(b"hello")
        entry = listing()[("mq", name)]
        assert entry["size"] == 5
        assert entry["attached"] >= 1
    finally:
        q.close()


def test_demo_runs_and_leaves_nothing():
    done = subprocess.run([TOOL, "demo", "--seconds", "2", "--size", "256"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "0 bad frames" in done.stdout
    assert not [o for o in listing().values() if o["address"].startswith("/ipc-demo-")]
