import os
import signal

import ipc

data = ipc.signal_number("SIGRTMIN+1")

# Block before forking, so nothing is lost while nobody waits.
old_mask = ipc.sigprocmask(ipc.SIG_BLOCK, [data, "USR1"])
previous = ipc.record_signal("USR1")

parent = os.getpid()
child = os.fork()
if child == 0:
    for value in (1000, 2000, 3000):
        ipc.sigqueue(parent, data, value)
    os.kill(parent, signal.SIGUSR1)
    os._exit(0)

for _ in range(3):
    info = ipc.sigwait([data], timeout=5)
    print(f"{ipc.signal_name(info.signo)} from process {info.pid} with value {info.value}")
os.waitpid(child, 0)

# Unblocking delivers the pending SIGUSR1 to the recording handler.
ipc.sigprocmask(ipc.SIG_UNBLOCK, ["USR1"])
count = ipc.recorded("USR1")
print(f"SIGUSR1 recorded {count} time(s), last from process {ipc.last_siginfo('USR1').pid}")

# Put everything back as it was.
previous.restore()
ipc.sigprocmask(ipc.SIG_SETMASK, old_mask)
