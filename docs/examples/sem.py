"""Two processes take turns through two semaphores in shared memory; a named
semaphore tells the parent that the child is done.
Run: PYTHONPATH=bindings/python python3 sem.py"""

import os

import ipc

memory = f"/ipc-example-turns-{os.getpid()}"
done_name = f"/ipc-example-done-{os.getpid()}"

with ipc.SharedMemory.create(memory, 4096, unlink_on_close=True) as shm:
    ping = ipc.Semaphore.init(shm, 0)      # in the shared memory, at offset 0
    pong = ipc.Semaphore.init(shm, 64)     # and at offset 64
    done = ipc.Semaphore.create(done_name, unlink_on_close=True)  # named

    if os.fork() == 0:
        # The child reaches the same semaphores through its own mapping.
        with ipc.SharedMemory.open(memory) as mine:
            my_ping, my_pong = ipc.Semaphore.attach(mine, 0), ipc.Semaphore.attach(mine, 64)
            for _ in range(3):
                my_ping.wait(timeout=10)
                mine[128] += 1             # returns the ball
                my_pong.post()
            my_ping.close(), my_pong.close()
        ipc.Semaphore.open(done_name).post()
        os._exit(0)

    for turn in range(1, 4):
        print("ping", turn)
        ping.post()
        if not pong.acquire(timeout=10):
            raise SystemExit("nobody answered")
        print("pong", shm[128])
    done.wait(timeout=10)
    print("done")
    os.wait()
    for sem in (ping, pong, done):
        sem.close()                        # the named one removes its name
