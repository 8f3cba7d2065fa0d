"""A Python process and a C program of the test suite (tests/c/peer.c) share
a shared array and two named semaphores: the C side sees what Python made,
and the index order agrees (column-major, as in Julia)."""

import os
import subprocess

import numpy as np

import ipc

PEER = os.path.join(os.path.dirname(os.environ["IPC_LIBRARY"]), "tests", "peer")


def test_python_and_c_share_an_array_and_semaphores(name):
    shape = (3, 4, 2)
    with ipc.SharedArray(name + "-array", np.float64, shape, unlink_on_close=True) as array:
        array[...] = -1.0
        ping = ipc.Semaphore.create(name + "-ping", 0, unlink_on_close=True)
        pong = ipc.Semaphore.create(name + "-pong", 0, unlink_on_close=True)
        try:
            peer = subprocess.Popen([PEER, array.address, name + "-ping", name + "-pong"])
            assert (array == -1.0).all()  # the peer waits for the ping
            ping.release()
            pong.wait(timeout=10)
            assert peer.wait(timeout=10) == 0
            # The C side wrote 1000 + k at linear index k, first dimension fastest.
            for i in range(shape[0]):
                for j in range(shape[1]):
                    for k in range(shape[2]):
                        assert array[i, j, k] == 1000 + i + shape[0] * (j + shape[1] * k)
        finally:
            ping.close()
            pong.close()


def test_c_peer_reports_a_missing_array(name):
    done = subprocess.run([PEER, name + "-missing", name + "-ping", name + "-pong"], capture_output=True,
                          text=True, timeout=10)
    assert done.returncode == 1
    assert "No such file or directory" in done.stderr
