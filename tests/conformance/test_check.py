#!/usr/bin/env python3
"""Tests of check.py: a fixture tree with a header and both bindings passes,
and each deliberate drift of a binding from the header is reported."""

import io
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check  # noqa: E402

HEADER = """
#include "common.h"
/** comments are ignored: IPC_API int ipc_demo_fake(void); */
typedef struct ipc_demo ipc_demo;
enum { IPC_DEMO_A = 1, IPC_DEMO_B = 0x10, IPC_DEMO_C = (1 << 4) | 2, IPC_DEMO_D = 010 };
#define IPC_DEMO_MAX 64u
typedef struct ipc_demo_info {
    int64_t size;
    int32_t kind, id;
    char name[8];
} ipc_demo_info;
typedef void (*ipc_demo_fn)(int value, void *user);
IPC_API int ipc_demo_open(ipc_demo **out, const char *name, uint32_t flags);
IPC_API int ipc_demo_close(ipc_demo *d);
IPC_API int ipc_demo_stat(const ipc_demo *d, ipc_demo_info *info);
IPC_API size_t ipc_demo_size(const ipc_demo *d);
IPC_API int ipc_demo_name(const ipc_demo *d, char *buf, size_t cap);
IPC_API int ipc_demo_each(ipc_demo *d, ipc_demo_fn fn, void *user);
IPC_API void ipc_demo_dims(const int64_t dims[], int n, int32_t *out);
IPC_API double ipc_demo_wait(ipc_demo *d, double seconds);
IPC_API const char *ipc_demo_label(void);
IPC_API int ipc_demo_hook(ipc_demo *d, void (*fn)(int value, void *user),
                          void *user);
"""

JULIA_CONSTANTS = """
# the values of the header
const IPC_DEMO_A = UInt32(1)
const IPC_DEMO_B = Cint(0x10)
const IPC_DEMO_C = 18
const IPC_DEMO_D = Int(8)
const IPC_DEMO_MAX = Int(64)
"""

JULIA_CALLS = """
# mirrors ipc_demo_info
mutable struct DemoInfo
    size::Int64
    kind::Int32
    id::Int32
    name::NTuple{8,UInt8}
end

demo_open(name) = ccall((:ipc_demo_open, library()), Cint,
                        (Ptr{Ptr{Cvoid}}, Cstring, UInt32), out, name, flags)
demo_close(d) = ccall((:ipc_demo_close, library()), Cint, (Ptr{Cvoid},), d)
demo_stat(d, info) = ccall((:ipc_demo_stat, library()), Cint, (Ptr{Cvoid}, Ref{DemoInfo}), d, info)
demo_size(d) = ccall((:ipc_demo_size, library()), Csize_t, (Ptr{Cvoid},), d)  # a comment ) (
demo_name(d, buf) = ccall((:ipc_demo_name, library()), Cint, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t),
                          d, buf, length(buf))
demo_each(d, f) = ccall((:ipc_demo_each, library()), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}),
                        d, f, C_NULL)
demo_dims(dims, n, out) = ccall((:ipc_demo_dims, library()), Cvoid, (Ptr{Int64}, Cint, Ref{Int32}),
                                dims, n, out)
demo_wait(d, s) = ccall((:ipc_demo_wait, library()), Cdouble, (Ptr{Cvoid}, Cdouble), d, s)
str = "ccall((:ipc_demo_nothing, lib), Cint, ())"   # in a string: still read, see below
c = '#'
"""

PYTHON_CAPI = """
import ctypes
from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_uint32, c_void_p


class DemoInfo(ctypes.Structure):
    _fields_ = [("size", c_int64), ("kind", c_int32), ("id", c_int32), ("name", ctypes.c_char * 8)]


DemoFn = ctypes.CFUNCTYPE(None, c_int, c_void_p)

PROTOTYPES = {
    "ipc_demo_open": (c_int, [POINTER(c_void_p), c_char_p, c_uint32]),
    "ipc_demo_close": (c_int, [c_void_p]),
    "ipc_demo_stat": (c_int, [c_void_p, POINTER(DemoInfo)]),
    "ipc_demo_size": (c_size_t, [c_void_p]),
    "ipc_demo_name": (c_int, [c_void_p, c_char_p, c_size_t]),
    "ipc_demo_each": (c_int, [c_void_p, DemoFn, c_void_p]),
    "ipc_demo_dims": (None, [POINTER(c_int64), c_int, POINTER(c_int32)]),
    "ipc_demo_wait": (c_double, [c_void_p, c_double]),
    "ipc_demo_label": (c_char_p, []),
    "ipc_demo_hook": (c_int, [c_void_p, DemoFn, c_void_p]),
}

CONSTANTS = {"IPC_DEMO_A": 1, "IPC_DEMO_C": 18, "IPC_DEMO_MAX": 64}
"""


class Fixture:
    """A source tree with the demo header and both bindings, changed by replace()."""

    def __init__(self, python=True):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)
        (self.root / "include" / "ipc").mkdir(parents=True)
        (self.root / "include" / "ipc" / "demo.h").write_text(HEADER)
        src = self.root / "bindings" / "julia" / "IPC" / "src"
        src.mkdir(parents=True)
        (src / "constants.jl").write_text(JULIA_CONSTANTS)
        (src / "demo.jl").write_text(JULIA_CALLS.replace(
            'str = "ccall((:ipc_demo_nothing, lib), Cint, ())"', 'str = "text"'))
        if python:
            pkg = self.root / "bindings" / "python" / "ipc"
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
            (pkg / "_capi.py").write_text(PYTHON_CAPI)

    def replace(self, relpath, old, new):
        path = self.root / relpath
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))

    def run(self):
        out = io.StringIO()
        report = check.run(self.root, out=out)
        return report, out.getvalue()

    def close(self):
        self.dir.cleanup()


JL = "bindings/julia/IPC/src/demo.jl"
JLC = "bindings/julia/IPC/src/constants.jl"
PY = "bindings/python/ipc/_capi.py"


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.fixture = Fixture()

    def tearDown(self):
        self.fixture.close()

    def expect(self, *fragments):
        report, out = self.fixture.run()
        self.assertTrue(report.errors, "the check found nothing:\n" + out)
        text = "\n".join(report.errors)
        for fragment in fragments:
            self.assertIn(fragment, text)
        return report

    def test_header_parsing(self):
        api = check.parse_headers([self.fixture.root / "include" / "ipc" / "demo.h"])
        self.assertEqual(api.constants, {"IPC_DEMO_A": 1, "IPC_DEMO_B": 16, "IPC_DEMO_C": 18,
                                         "IPC_DEMO_D": 8, "IPC_DEMO_MAX": 64})
        self.assertEqual(api.structs, {"ipc_demo_info": [8, 4, 4, 8]})
        self.assertEqual(api.handles, {"ipc_demo"})
        self.assertEqual(api.fnptrs, {"ipc_demo_fn"})
        self.assertNotIn("ipc_demo_fake", api.functions)
        self.assertEqual(len(api.functions), 10)
        self.assertEqual(api.functions["ipc_demo_hook"].args[1][0], ("fnptr", "function pointer"))
        self.assertEqual(api.functions["ipc_demo_dims"].args[0][0], ("ptr", ("int", True, 8), True))
        self.assertEqual(api.functions["ipc_demo_label"].ret, ("ptr", ("char",), True))

    def test_agreeing_bindings_pass(self):
        report, out = self.fixture.run()
        self.assertEqual(report.errors, [], out)
        self.assertIn("julia: 8 bound calls checked, 5 constants checked", out)
        self.assertIn("julia: not bound (information): ipc_demo_hook, ipc_demo_label", out)
        self.assertIn("python: 10 bound calls checked, 3 constants checked", out)

    def test_julia_wrong_argument_kind(self):
        self.fixture.replace(JL, "(Ptr{Ptr{Cvoid}}, Cstring, UInt32)", "(Ptr{Ptr{Cvoid}}, Cstring, Cint)")
        self.expect("julia demo.jl:10: ipc_demo_open argument 3 (flags) is uint32")

    def test_julia_wrong_argument_count(self):
        self.fixture.replace(JL, "(Ptr{Cvoid}, Cdouble), d, s)", "(Ptr{Cvoid},), d)")
        self.expect("ipc_demo_wait takes 2 arguments")

    def test_julia_types_and_values_differ_in_number(self):
        self.fixture.replace(JL, "(Ptr{Cvoid}, Cdouble), d, s)", "(Ptr{Cvoid}, Cdouble), d)")
        self.expect("declares 2 argument types but passes 1 values")

    def test_julia_wrong_return(self):
        self.fixture.replace(JL, "Csize_t, (Ptr{Cvoid},), d)", "Cint, (Ptr{Cvoid},), d)")
        self.expect("ipc_demo_size returns uint64")

    def test_julia_unknown_function(self):
        self.fixture.replace(JL, "(:ipc_demo_close,", "(:ipc_demo_shut,")
        self.expect("ipc_demo_shut is not a function of the public headers")

    def test_julia_out_pointer_must_point_to_pointer(self):
        self.fixture.replace(JL, "(Ptr{Ptr{Cvoid}}, Cstring, UInt32)", "(Ptr{Cvoid}, Cstring, UInt32)")
        self.expect("a T ** must be Ptr{Ptr{Cvoid}}")

    def test_julia_buffer_is_not_cstring(self):
        self.fixture.replace(JL, "(Ptr{Cvoid}, Ptr{UInt8}, Csize_t)", "(Ptr{Cvoid}, Cstring, Csize_t)")
        self.expect("a writable char buffer must be Ptr{UInt8}")

    def test_julia_wrong_element_pointer(self):
        self.fixture.replace(JL, "(Ptr{Int64}, Cint, Ref{Int32})", "(Ptr{Int32}, Cint, Ref{Int32})")
        self.expect("ipc_demo_dims argument 1 (dims) is const int64 *")

    def test_julia_wrong_constant(self):
        self.fixture.replace(JLC, "Cint(0x10)", "Cint(0x11)")
        self.expect("IPC_DEMO_B = 17, the header says 16")

    def test_julia_unknown_constant_and_form(self):
        self.fixture.replace(JLC, "const IPC_DEMO_D = Int(8)", "const IPC_DEMO_E = 8\nconst IPC_DEMO_A2 = 1 << 2")
        self.expect("IPC_DEMO_E is not a constant of the public headers",
                    "IPC_DEMO_A2 is not of the form")

    def test_julia_struct_mirror(self):
        self.fixture.replace(JL, "    id::Int32\n", "    id::Int64\n")
        self.expect("DemoInfo field sizes [8, 4, 8, 8] differ from ipc_demo_info field sizes [8, 4, 4, 8]")

    def test_julia_ccall_in_string_is_read(self):
        # Strings are not comments: a ccall written in one is still checked,
        # so code generated from strings cannot hide drift.
        self.fixture.replace(JL, 'str = "text"', 'str = "ccall((:ipc_demo_nothing, lib), Cint, ())"')
        self.expect("ipc_demo_nothing is not a function of the public headers")

    def test_julia_commented_ccall_is_ignored(self):
        self.fixture.replace(JL, 'str = "text"', '# ccall((:ipc_demo_nothing, lib), Cint, ())\n'
                             '#= ccall((:ipc_demo_nothing, lib), Cint, ()) =#')
        report, out = self.fixture.run()
        self.assertEqual(report.errors, [], out)

    def test_python_wrong_argument(self):
        self.fixture.replace(PY, "(c_int, [c_void_p, c_char_p, c_size_t])", "(c_int, [c_void_p, c_char_p, c_int])")
        self.expect("PROTOTYPES['ipc_demo_name']: ipc_demo_name argument 3 (cap) is uint64")

    def test_python_wrong_return(self):
        self.fixture.replace(PY, '"ipc_demo_close": (c_int,', '"ipc_demo_close": (None,')
        self.expect("ipc_demo_close returns int32")

    def test_python_struct_size(self):
        self.fixture.replace(PY, '("name", ctypes.c_char * 8)', '("name", ctypes.c_char * 4)')
        self.expect("DemoInfo field sizes [8, 4, 4, 4] differ from ipc_demo_info field sizes [8, 4, 4, 8]")

    def test_python_struct_total_size(self):
        self.fixture.replace(PY, '("name", ctypes.c_char * 8)', '("name", ctypes.c_char * 16)')
        self.expect("DemoInfo has 32 bytes, ipc_demo_info has 24")

    def test_python_wrong_count_and_constant(self):
        self.fixture.replace(PY, "(c_double, [c_void_p, c_double])", "(c_double, [c_void_p])")
        self.fixture.replace(PY, '"IPC_DEMO_C": 18', '"IPC_DEMO_C": 19')
        self.expect("ipc_demo_wait takes 2 arguments", "IPC_DEMO_C = 19, the header says 18")

    def test_python_import_failure(self):
        self.fixture.replace(PY, "PROTOTYPES = {", "PROTOTYPEZ = {")
        self.expect("importing ipc._capi failed")

    def test_python_absent_is_skipped(self):
        fixture = Fixture(python=False)
        try:
            report, out = fixture.run()
            self.assertEqual(report.errors, [], out)
            self.assertIn("python binding not present", out)
        finally:
            fixture.close()

    def test_main_exit_status(self):
        self.assertEqual(check.main([str(self.fixture.root)]), 0)
        self.fixture.replace(JL, "Cdouble, (Ptr{Cvoid}, Cdouble)", "Cfloat, (Ptr{Cvoid}, Cdouble)")
        self.assertEqual(check.main([str(self.fixture.root)]), 1)


if __name__ == "__main__":
    unittest.main()
