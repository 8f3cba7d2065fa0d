"""Two processes share a 2-D float64 array: the child opens it by its address
and fills it, the parent reads it back. Run: PYTHONPATH=bindings/python python3 array.py"""

import os

import numpy

import ipc

name = f"/ipc-example-array-{os.getpid()}"

# 3 rows, 4 columns, Fortran order: a[i, j] is A[i+1, j+1] in Julia, data[i + 3*j] in C.
with ipc.SharedArray(name, "float64", (3, 4), unlink_on_close=True) as a:
    child = os.fork()
    if child == 0:
        # Only the address is needed: the header tells the type and the shape.
        mine = ipc.SharedArray.open(a.address)
        i, j = numpy.indices(mine.shape)
        mine[...] = 10.0 * i + j
        os._exit(0)
    _, status = os.waitpid(child, 0)

    print(f"process {os.getpid()} reads the {a.shape[0]}x{a.shape[1]} {a.dtype} array at {a.address}:")
    print(a)
    ok = (a == 10.0 * numpy.arange(3)[:, None] + numpy.arange(4)).all()
# Leaving the block closed the array and, with unlink_on_close, removed the name.

raise SystemExit(os.waitstatus_to_exitcode(status) or (0 if ok else 1))
