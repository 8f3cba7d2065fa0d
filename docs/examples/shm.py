"""Two processes share memory: the child writes a greeting through its own
mapping, the parent reads it. Run: PYTHONPATH=bindings/python python3 shm.py"""

import os

import ipc

name = f"/ipc-example-hello-{os.getpid()}"

with ipc.SharedMemory.create(name, 4096, unlink_on_close=True) as shm:
    child = os.fork()
    if child == 0:
        with ipc.SharedMemory.open(name) as mine:
            greeting = f"hello from process {os.getpid()}".encode()
            mine[: len(greeting)] = greeting
        os._exit(0)
    _, status = os.waitpid(child, 0)

    text = bytes(shm.buf).split(b"\0", 1)[0].decode()
    print(f'process {os.getpid()} read from {name}: "{text}"')
# Leaving the block closed the object and, with unlink_on_close, removed the name.

raise SystemExit(os.waitstatus_to_exitcode(status))
