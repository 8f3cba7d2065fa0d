"""Two processes talk through a message queue: the child sends three messages
with priorities, the parent receives them highest priority first.
Run: PYTHONPATH=bindings/python python3 mq.py"""

import os

import ipc

name = f"/ipc-example-mq-{os.getpid()}"

# Room for 4 messages of up to 64 bytes; the name goes away with the handle.
with ipc.MessageQueue.create(name, 4, 64, unlink_on_close=True) as q:
    child = os.fork()
    if child == 0:
        with ipc.MessageQueue.open(name, read=False) as out:
            for text, priority in [("routine report", 0), ("urgent: disk full", 9), ("status update", 5)]:
                out.send(text.encode(), priority)
        os._exit(0)
    _, status = os.waitpid(child, 0)  # all three are queued now

    print(f"{q.count} message(s) queued")
    try:
        while True:
            data, priority = q.receive(timeout=0.1)
            print(f"priority {priority}: {data.decode()}")
    except TimeoutError:
        pass
