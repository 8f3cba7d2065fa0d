"""Two processes share a mutex and a condition variable in shared memory: the
child posts a message and notifies, the parent waits for it. Then a second
child dies holding the mutex, and the parent recovers it.
Run: PYTHONPATH=bindings/python python3 sync.py"""

import os

import ipc

name = f"/ipc-example-sync-{os.getpid()}"
MUTEX, COND, READY, TEXT = 0, 64, 192, 256  # offsets, multiples of ipc.Mutex.ALIGNMENT

with ipc.SharedMemory.create(name, 4096, unlink_on_close=True) as shm:
    mutex = ipc.Mutex.init(shm, MUTEX)
    cond = ipc.Condition.init(shm, COND, mutex=mutex)

    child = os.fork()
    if child == 0:  # attaches to the locks the parent initialised
        with ipc.SharedMemory.open(name) as mine:
            lock = ipc.Mutex.attach(mine, MUTEX)
            with ipc.Condition.attach(mine, COND, mutex=lock) as posted:  # holds the mutex
                message = f"hello from process {os.getpid()}".encode()
                mine[TEXT:TEXT + len(message)] = message
                mine[READY] = 1
                posted.notify()
        os._exit(0)

    with cond:  # holds the mutex; wait_for loops over early wake-ups
        if cond.wait_for(lambda: shm[READY] == 1, timeout=10):
            text = bytes(shm[TEXT:TEXT + 64]).split(b"\0", 1)[0].decode()
            print(f'parent {os.getpid()} got: "{text}"')
    _, status = os.waitpid(child, 0)

    # A process that ends while it holds the mutex: the next locker is told.
    child = os.fork()
    if child == 0:
        mutex.acquire()
        os._exit(0)  # no release
    os.waitpid(child, 0)
    try:
        mutex.acquire()
    except ipc.OwnerDeadError:  # held: repair, then mark it consistent
        shm[READY] = 0
        mutex.consistent()
        print("the owner died holding the mutex; recovered")
    mutex.release()
    cond.close()
    mutex.close()
# Leaving the block closed the memory and, with unlink_on_close, removed the name.

raise SystemExit(os.waitstatus_to_exitcode(status))
