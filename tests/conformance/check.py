#!/usr/bin/env python3
"""Checks that the Julia and Python bindings agree with the public C headers.

Usage: check.py SOURCE_ROOT [--library PATH]

It reads every include/ipc/*.h (IPC_API prototypes, handle typedefs, structs,
function pointer typedefs, enum constants with explicit values, integer
#define IPC_* macros), then:

- Julia: every `ccall((:ipc_..., lib), Ret, (Args...), ...)` in
  bindings/julia/IPC/src/*.jl must name a header function with the same number
  and kinds of arguments and the same return type; every `const IPC_* = ...`
  must have the header's value; every struct marked `# mirrors ipc_<name>` (and
  every struct passed as Ref{S}/Ptr{S} for a C struct pointer) must have fields
  of the same sizes in the same order.
- Python: imports bindings/python/ipc with IPC_LIBRARY set to the library and
  compares ipc._capi.PROTOTYPES (name -> (restype, [argtypes])) and
  ipc._capi.CONSTANTS (name -> value) the same way. Without the package it
  prints "python binding not present" and checks only Julia.
- With --library, every header function must be exported by the library.

Every exported function must be reachable from both bindings, unless
tests/conformance/unbound.txt lists it for that binding with the reason
(lines "python ipc_x  reason"); an exception for a function that is bound is
an error too, so the list stays short and true. (A tree without that file, such
as the self-test's fixtures, gets the unbound functions listed for information.)
Any mismatch is printed with its file and line, and the exit status is 1.
"""

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# ---------------------------------------------------------------------------
# Canonical type descriptions shared by the three languages.
#   ("int", signed, size)   ("float", size)   ("void",)
#   ("char",)               the target of a C char pointer
#   ("handle", name)        an opaque handle (only behind a pointer)
#   ("struct", name)        a C struct (only behind a pointer)
#   ("fnptr", name)         a C function pointer typedef
#   ("ptr", target, const)  a C pointer
# Bindings describe their types in the same terms, plus ("cstring",) for
# Julia's Cstring and ctypes' c_char_p, and ("bstruct", name, sizes, size) for
# a binding's mirror of a struct.
# ---------------------------------------------------------------------------

C_SCALARS = {
    "int": ("int", True, 4), "unsigned": ("int", False, 4), "unsigned int": ("int", False, 4),
    "long": ("int", True, 8), "unsigned long": ("int", False, 8),
    "short": ("int", True, 2), "unsigned short": ("int", False, 2),
    "char": ("char",), "signed char": ("int", True, 1), "unsigned char": ("int", False, 1),
    "int8_t": ("int", True, 1), "uint8_t": ("int", False, 1),
    "int16_t": ("int", True, 2), "uint16_t": ("int", False, 2),
    "int32_t": ("int", True, 4), "uint32_t": ("int", False, 4),
    "int64_t": ("int", True, 8), "uint64_t": ("int", False, 8),
    "size_t": ("int", False, 8), "ssize_t": ("int", True, 8), "intptr_t": ("int", True, 8),
    "uintptr_t": ("int", False, 8), "pid_t": ("int", True, 4),
    "double": ("float", 8), "float": ("float", 4), "void": ("void",), "_Bool": ("int", False, 1),
    "bool": ("int", False, 1),
}
TYPE_WORDS = {"unsigned", "signed", "long", "short", "int", "char"}

JULIA_SCALARS = {
    "Cint": ("int", True, 4), "Int32": ("int", True, 4), "Cuint": ("int", False, 4),
    "UInt32": ("int", False, 4), "Int64": ("int", True, 8), "Clonglong": ("int", True, 8),
    "Clong": ("int", True, 8), "Int": ("int", True, 8), "Cssize_t": ("int", True, 8),
    "UInt64": ("int", False, 8), "Culonglong": ("int", False, 8), "Culong": ("int", False, 8),
    "UInt": ("int", False, 8), "Csize_t": ("int", False, 8), "Int16": ("int", True, 2),
    "Cshort": ("int", True, 2), "UInt16": ("int", False, 2), "Cushort": ("int", False, 2),
    "Int8": ("int", True, 1), "UInt8": ("int", False, 1), "Cuchar": ("int", False, 1),
    "Cchar": ("int", True, 1), "Bool": ("int", False, 1), "Cdouble": ("float", 8),
    "Float64": ("float", 8), "Cfloat": ("float", 4), "Float32": ("float", 4),
    "Cvoid": ("void",), "Nothing": ("void",), "Cstring": ("cstring",),
}


def describe(desc):
    """A C-like spelling of a description, for messages."""
    kind = desc[0]
    if kind == "int":
        return f"{'' if desc[1] else 'u'}int{desc[2] * 8}"
    if kind == "float":
        return "double" if desc[1] == 8 else "float"
    if kind in ("void", "char", "cstring"):
        return {"void": "void", "char": "char", "cstring": "C string"}[kind]
    if kind in ("handle", "struct", "fnptr"):
        return desc[1]
    if kind == "bstruct":
        return f"struct mirror {desc[1]}"
    if kind == "ptr":
        return ("const " if len(desc) > 2 and desc[2] else "") + describe(desc[1]) + " *"
    return repr(desc)


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def eval_int(expr, known):
    """Evaluates a C integer constant expression over literals and known names."""
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expr.strip())
    expr = re.sub(r"\b0([0-7]+)\b", r"0o\1", expr)  # C octal
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            v = value(node.operand)
            return {ast.USub: -v, ast.UAdd: v, ast.Invert: ~v}[type(node.op)]
        if isinstance(node, ast.BinOp):
            a, b = value(node.left), value(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.BitOr: lambda: a | b, ast.BitAnd: lambda: a & b, ast.BitXor: lambda: a ^ b,
                   ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b}
            if type(node.op) in ops:
                return ops[type(node.op)]()
        raise ValueError(expr)

    try:
        return value(tree.body)
    except (ValueError, TypeError):
        return None


@dataclass
class Function:
    name: str
    ret: tuple
    args: list          # [(description, parameter name)]
    where: str


@dataclass
class Api:
    functions: dict = field(default_factory=dict)   # name -> Function
    constants: dict = field(default_factory=dict)   # name -> int
    handles: set = field(default_factory=set)
    structs: dict = field(default_factory=dict)     # name -> [field sizes]
    fnptrs: set = field(default_factory=set)


def c_field_size(ctype, api):
    depth = ctype.count("*")
    words = [w for w in re.findall(r"[A-Za-z_]\w*", ctype) if w not in ("const", "struct", "volatile")]
    if depth:
        return 8
    base = " ".join(words)
    if base in api.fnptrs:
        return 8
    if base in api.structs:
        return sum(api.structs[base])
    desc = C_SCALARS.get(base)
    if desc is None:
        raise ValueError(f"unknown field type {ctype!r}")
    return 1 if desc[0] == "char" else desc[-1]


def parse_c_type(text, api, where):
    """Parses a parameter or return declaration; returns (description, name)."""
    text = text.strip()
    arrays = text.count("[")
    text = re.sub(r"\[[^\]]*\]", "", text)
    tokens = re.findall(r"[A-Za-z_]\w*|\*", text)
    words, stars, seen_star = [], 0, False
    const_before_star = False
    for t in tokens:
        if t == "const":
            if not seen_star:
                const_before_star = True
            continue
        if t in ("struct", "volatile", "restrict", "enum"):
            continue
        if t == "*":
            stars += 1
            seen_star = True
            continue
        words.append(t)
    name = None
    if len(words) >= 2 and not (words[-1] in TYPE_WORDS and all(w in TYPE_WORDS for w in words)):
        name = words.pop()
    base = " ".join(words)
    stars += arrays
    is_const = const_before_star
    if base in C_SCALARS:
        desc = C_SCALARS[base]
    elif base in api.handles:
        desc = ("handle", base)
    elif base in api.structs:
        desc = ("struct", base)
    elif base in api.fnptrs:
        desc = ("fnptr", base)
    else:
        raise ValueError(f"{where}: unknown C type {base!r}")
    for level in range(stars):
        desc = ("ptr", desc, is_const if level == 0 else False)
    if desc[0] in ("handle", "struct", "char"):
        raise ValueError(f"{where}: {base} passed by value")
    return desc, name


def parse_c_param(text, api, where):
    """A parameter: a declaration, or an inline function pointer `ret (*name)(args)`."""
    m = re.fullmatch(r"[^()]*\(\s*\*\s*(\w*)\s*\)\s*\(.*\)\s*", text, re.S)
    if m:
        return ("fnptr", "function pointer"), m.group(1) or None
    return parse_c_type(text, api, where)


def split_top(text, sep=","):
    """Splits at separators outside (), {}, []."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_headers(paths):
    api = Api()
    texts = [(p, strip_c_comments(Path(p).read_text())) for p in paths]
    # Types first, so prototypes of any header can use them.
    for path, text in texts:
        for m in re.finditer(r"typedef\s+struct\s+(\w+)\s+(\w+)\s*;", text):
            api.handles.add(m.group(2))
        for m in re.finditer(r"typedef\s+[^;{}()]*?\(\s*\*\s*(\w+)\s*\)\s*\([^;]*\)\s*;", text):
            api.fnptrs.add(m.group(1))
    # Constants before structs, whose array sizes may use them.
    for path, text in texts:
        for m in re.finditer(r"enum\s*\w*\s*\{(.*?)\}", text, re.S):
            for item in split_top(m.group(1)):
                if "=" in item:
                    name, expr = (s.strip() for s in item.split("=", 1))
                    value = eval_int(expr, api.constants)
                    if value is not None:
                        api.constants[name] = value
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(IPC_\w+)[ \t]+([^\n]+)$", text, re.M):
            value = eval_int(m.group(2), api.constants)
            if value is not None:
                api.constants[m.group(1)] = value
    for path, text in texts:
        for m in re.finditer(r"typedef\s+struct\s*(\w*)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
            sizes = []
            for decl in m.group(2).split(";"):
                pieces = [x.strip() for x in decl.split(",")]
                if not pieces[0]:
                    continue
                first = re.fullmatch(r"(.*?)(\**\s*\w+\s*(?:\[\s*\w+\s*\])?)", pieces[0], re.S)
                base, declarators = first.group(1), [first.group(2)] + pieces[1:]
                for d in declarators:
                    dm = re.fullmatch(r"(\**)\s*\w+\s*(?:\[\s*(\w+)\s*\])?", d)
                    if not dm:
                        raise ValueError(f"{path}: cannot read the field {d!r}")
                    count = 1
                    if dm.group(2):
                        count = eval_int(dm.group(2), api.constants)
                        if count is None:
                            raise ValueError(f"{path}: array size {dm.group(2)!r} is not a known constant")
                    sizes.append(c_field_size(base + dm.group(1), api) * count)
            api.structs[m.group(3)] = sizes
            api.handles.discard(m.group(3))
    for path, text in texts:
        text = re.sub(r"^[ \t]*#[^\n]*", "", text, flags=re.M)  # preprocessor lines
        for m in re.finditer(r"\bIPC_API\s+([^;{(]*?)\b(ipc_\w+)\s*\(", text):
            where = f"{Path(path).name}:{line_of(text, m.start())}"
            depth, j = 1, m.end()
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            if not re.match(r"\s*;", text[j:]):
                raise ValueError(f"{where}: cannot read the prototype of {m.group(2)}")
            ret, _ = parse_c_type(m.group(1) + " ", api, where)
            params = split_top(text[m.end():j - 1])
            args = [] if params in ([], ["void"]) else [parse_c_param(p, api, where) for p in params]
            api.functions[m.group(2)] = Function(m.group(2), ret, args, where)
    return api


# ---------------------------------------------------------------------------
# Compatibility of a binding's type with a C type.
# ---------------------------------------------------------------------------

def compatible(c, b, api, language, is_return=False):
    """None when binding type b may stand for C type c, else the reason."""
    if c[0] in ("int", "float", "void"):
        return None if b == c else "differs"
    if c[0] == "fnptr":
        return None if b in (("ptr", ("void",)), ("fnptr",)) else "differs"
    if c[0] != "ptr":
        return "differs"
    target, is_const = c[1], c[2]
    if target[0] == "ptr":               # T **: an out-pointer to a pointer
        if b[0] == "ptr" and b[1] == ("ptr", ("void",)):
            return None
        return "a T ** must be Ptr{Ptr{Cvoid}} (Julia) or POINTER(c_void_p) (Python)"
    if b == ("ptr", ("void",)):
        return None                      # void * stands for any other pointer
    if target[0] == "char":
        if b == ("cstring",):
            # Julia's Cstring is for strings passed in (or returned), not for buffers.
            if is_const or language == "python" or is_return:
                return None
            return "a writable char buffer must be Ptr{UInt8}, not Cstring"
        return None if b in (("ptr", ("int", True, 1)), ("ptr", ("int", False, 1))) else "differs"
    if target[0] in ("int", "float"):
        return None if b == ("ptr", target) else "differs"
    if target[0] in ("handle", "void"):
        return "differs"
    if target[0] == "fnptr":
        return None if b[0] == "ptr" and b[1] in (("ptr", ("void",)), ("fnptr",)) else "differs"
    if target[0] == "struct":
        if b[0] == "ptr" and b[1][0] == "bstruct":
            want = api.structs[target[1]]
            got = None if b[1][2] is None else list(b[1][2])
            if got is None:
                return f"{b[1][1]} is not a known struct"
            if b[1][3] is not None and b[1][3] != sum(want):
                return f"{b[1][1]} has {b[1][3]} bytes, {target[1]} has {sum(want)}"
            if got != want:
                return (f"{b[1][1]} field sizes {got} differ from {target[1]} field sizes {want}")
            return None
        return "differs"
    return "differs"


def compare(fn, ret, args, api, language, where, errors):
    if len(args) != len(fn.args):
        errors.append(f"{where}: {fn.name} takes {len(fn.args)} arguments ({fn.where}), "
                      f"the {language} binding declares {len(args)}")
        return
    reason = compatible(fn.ret, ret, api, language, is_return=True)
    if reason:
        errors.append(f"{where}: {fn.name} returns {describe(fn.ret)} ({fn.where}), the {language} "
                      f"binding declares {show_binding(ret)}: {reason}")
    for i, ((cdesc, pname), bdesc) in enumerate(zip(fn.args, args)):
        reason = compatible(cdesc, bdesc, api, language)
        if reason:
            errors.append(f"{where}: {fn.name} argument {i + 1} ({pname or '?'}) is {describe(cdesc)} "
                          f"({fn.where}), the {language} binding declares {show_binding(bdesc)}: {reason}")


def show_binding(b):
    if b[0] == "ptr" and b[1][0] == "bstruct":
        return f"pointer to {b[1][1]}"
    if b == ("fnptr",):
        return "function pointer"
    return describe(b)


# ---------------------------------------------------------------------------
# Julia
# ---------------------------------------------------------------------------

def strip_julia_comments(text):
    """Blanks comments (keeping line numbers) outside string and char literals."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("#=", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("#=", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("=#", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text[i] == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            j = n if j < 0 else j + 3
            out.append(text[i:j])
            i = j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text[i] == "'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_)]}'")):
            m = re.match(r"'(\\.[^']*|[^'\\])'", text[i:])
            j = i + (len(m.group(0)) if m else 1)
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@dataclass
class JuliaStruct:
    name: str
    fields: list        # field types (strings)
    mirrors: str        # the C struct named by a "# mirrors ipc_x" comment, or None
    where: str


def julia_type(text, structs):
    """Describes a Julia type expression."""
    text = text.strip()
    m = re.fullmatch(r"(?:\w+\.)*(\w+)\s*(?:\{(.*)\})?", text, re.S)
    if not m:
        return ("unknown", text)
    name, params = m.group(1), m.group(2)
    if params is None:
        if name in JULIA_SCALARS:
            return JULIA_SCALARS[name]
        if name in structs:
            return ("bstruct", name, None, None)
        return ("unknown", text)
    inner = split_top(params)
    if name in ("Ptr", "Ref") and len(inner) == 1:
        target = julia_type(inner[0], structs)
        if target[0] == "bstruct":
            sizes = julia_struct_sizes(structs[target[1]], structs)
            target = ("bstruct", target[1], sizes, None)  # compared field by field
        return ("ptr", target)
    return ("unknown", text)


def julia_field_size(tname, structs):
    tname = tname.strip()
    m = re.fullmatch(r"NTuple\{\s*(\d+)\s*,\s*(.+)\}", tname)
    if m:
        return int(m.group(1)) * julia_field_size(m.group(2), structs)
    d = julia_type(tname, structs)
    if d[0] in ("int", "float"):
        return d[-1]
    if d[0] == "ptr" or d == ("cstring",):
        return 8
    raise ValueError(tname)


def julia_struct_sizes(struct, structs):
    try:
        return [julia_field_size(t, structs) for t in struct.fields]
    except ValueError:
        return None


def parse_julia(src_dir):
    files = sorted(Path(src_dir).glob("*.jl"))
    texts = [(f, strip_julia_comments(f.read_text())) for f in files]
    raw = {f: f.read_text().splitlines() for f in files}
    structs = {}
    for f, text in texts:
        for m in re.finditer(r"^[ \t]*(?:mutable[ \t]+)?struct[ \t]+(\w+)[^\n]*\n(.*?)^[ \t]*end\b",
                             text, re.M | re.S):
            fields = re.findall(r"^[ \t]*\w+[ \t]*::[ \t]*([^\n=]+?)[ \t]*$", m.group(2), re.M)
            lineno = line_of(text, m.start())
            before = raw[f][lineno - 2].strip() if lineno >= 2 else ""
            mm = re.fullmatch(r"#\s*mirrors\s+(ipc_\w+)\b.*", before)
            structs[m.group(1)] = JuliaStruct(m.group(1), fields, mm.group(1) if mm else None,
                                              f"{f.name}:{lineno}")
    calls, constants, errors = [], [], []
    for f, text in texts:
        for m in re.finditer(r"@ccall\b[^\n]*\bipc_\w+", text):
            errors.append(f"{f.name}:{line_of(text, m.start())}: use the form ccall((:ipc_..., lib), "
                          "Ret, (Args...), ...) so the conformance check can read it")
        for m in re.finditer(r"\bccall\s*\(", text):
            depth, j = 1, m.end()
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            parts = split_top(text[m.end():j - 1])
            where = f"{f.name}:{line_of(text, m.start())}"
            if not parts:
                continue
            target = re.fullmatch(r"\(\s*:(\w+)\s*,.*\)", parts[0], re.S)
            if not target or not target.group(1).startswith("ipc_"):
                if re.search(r"\bipc_\w+", parts[0]):
                    errors.append(f"{where}: ccall target {parts[0]!r} is not (:ipc_name, library)")
                continue
            if len(parts) < 3 or not (parts[2].startswith("(") and parts[2].endswith(")")):
                errors.append(f"{where}: ccall of {target.group(1)} has no literal argument type tuple")
                continue
            types = split_top(parts[2][1:-1])
            values = parts[3:]
            if len(values) != len(types):
                errors.append(f"{where}: ccall of {target.group(1)} declares {len(types)} argument "
                              f"types but passes {len(values)} values")
            calls.append((target.group(1), parts[1], types, where))
        for m in re.finditer(r"^[ \t]*const[ \t]+(IPC_\w+)\b([^\n]*)$", text, re.M):
            where = f"{f.name}:{line_of(text, m.start())}"
            vm = re.fullmatch(r"\s*(?:::\s*\w+\s*)?=\s*(?:\w+\(\s*)?([-+]?(?:0x[0-9a-fA-F_]+|0o[0-7_]+|"
                              r"0b[01_]+|\d[\d_]*))\s*\)?\s*", m.group(2))
            if not vm:
                errors.append(f"{where}: {m.group(1)} is not of the form `const IPC_NAME = T(integer)`"
                              " or `const IPC_NAME = integer`")
                continue
            constants.append((m.group(1), int(vm.group(1).replace("_", ""), 0), where))
    return calls, constants, structs, errors


def check_julia(root, api, report):
    src = Path(root) / "bindings" / "julia" / "IPC" / "src"
    if not src.is_dir():
        report.errors.append(f"{src}: the Julia package is missing")
        return
    calls, constants, structs, errors = parse_julia(src)
    report.errors.extend(f"julia {e}" for e in errors)
    bound = set()
    for name, ret, types, where in calls:
        where = f"julia {where}"
        fn = api.functions.get(name)
        if fn is None:
            report.errors.append(f"{where}: {name} is not a function of the public headers")
            continue
        bound.add(name)
        bret = julia_type(ret, structs)
        bargs = [julia_type(t, structs) for t in types]
        for t, d in zip([ret] + types, [bret] + bargs):
            if d[0] == "unknown":
                report.errors.append(f"{where}: {name}: unknown Julia type {t.strip()!r}")
        if bret[0] == "ptr" and ret.strip().startswith("Ref"):
            report.errors.append(f"{where}: {name}: a ccall cannot return Ref")
        compare(fn, bret, bargs, api, "julia", where, report.errors)
    for name, value, where in constants:
        check_constant("julia " + where, name, value, api, report)
    for s in structs.values():
        if s.mirrors is None:
            continue
        if s.mirrors not in api.structs:
            report.errors.append(f"julia {s.where}: {s.name} mirrors {s.mirrors}, which no header defines")
            continue
        sizes = julia_struct_sizes(s, structs)
        want = api.structs[s.mirrors]
        if sizes != want:
            report.errors.append(f"julia {s.where}: {s.name} field sizes {sizes} differ from "
                                 f"{s.mirrors} field sizes {want}")
    report.bound["julia"] = bound
    report.counts["julia"] = (len(calls), len(constants))


def check_constant(where, name, value, api, report):
    if name not in api.constants:
        report.errors.append(f"{where}: {name} is not a constant of the public headers")
    elif api.constants[name] != value:
        report.errors.append(f"{where}: {name} = {value}, the header says {api.constants[name]}")


# ---------------------------------------------------------------------------
# Python
# ---------------------------------------------------------------------------

# Run in a child interpreter: imports the package and prints its interface as
# JSON, each ctypes type reduced to a description.
PY_DUMP = r"""
import ctypes, json, sys
sys.path.insert(0, sys.argv[1])
import ipc._capi as capi

def d(t):
    if t is None:
        return ["void"]
    if t is ctypes.c_char_p:
        return ["cstring"]
    if t is ctypes.c_void_p:
        return ["ptr", ["void"]]
    if t is ctypes.c_bool:
        return ["int", False, 1]
    if isinstance(t, type) and issubclass(t, ctypes._Pointer):
        return ["ptr", d(t._type_)]
    if isinstance(t, type) and issubclass(t, ctypes._CFuncPtr):
        return ["fnptr"]
    if isinstance(t, type) and issubclass(t, ctypes.Structure):
        sizes = [ctypes.sizeof(f[1]) for f in t._fields_]
        return ["bstruct", t.__name__, sizes, ctypes.sizeof(t)]
    if isinstance(t, type) and issubclass(t, ctypes._SimpleCData):
        code = t._type_
        if code in "fd":
            return ["float", ctypes.sizeof(t)]
        if code in "bhilqBHILQ":
            return ["int", code.islower(), ctypes.sizeof(t)]
        if code == "c":
            return ["int", True, 1]
    return ["unknown", repr(t)]

protos = {name: [d(r), [d(a) for a in args]] for name, (r, args) in capi.PROTOTYPES.items()}
consts = {name: int(v) for name, v in capi.CONSTANTS.items()}
print(json.dumps({"prototypes": protos, "constants": consts}))
"""


def tuplify(x):
    return tuple(tuplify(v) for v in x) if isinstance(x, list) else x


def check_python(root, api, library, report):
    pkg = Path(root) / "bindings" / "python"
    if not (pkg / "ipc" / "__init__.py").is_file():
        report.notes.append("python binding not present: skipped the Python part")
        return
    env = dict(os.environ)
    if library:
        env["IPC_LIBRARY"] = str(Path(library).resolve())
    proc = subprocess.run([sys.executable, "-c", PY_DUMP, str(pkg)], capture_output=True,
                          text=True, env=env, timeout=60)
    if proc.returncode != 0:
        report.errors.append("python: importing ipc._capi failed (it must define PROTOTYPES "
                             "and CONSTANTS):\n" + proc.stderr.strip())
        return
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    bound = set()
    for name, (ret, args) in sorted(data["prototypes"].items()):
        where = f"python ipc._capi.PROTOTYPES[{name!r}]"
        fn = api.functions.get(name)
        if fn is None:
            report.errors.append(f"{where}: {name} is not a function of the public headers")
            continue
        bound.add(name)
        ret, args = tuplify(ret), [tuplify(a) for a in args]
        for t in [ret] + args:
            if t[0] == "unknown":
                report.errors.append(f"{where}: unsupported ctypes type {t[1]}")
        # ctypes passes any pointer for POINTER(Structure): compare as a struct mirror.
        compare(fn, ret, args, api, "python", where, report.errors)
    for name, value in sorted(data["constants"].items()):
        check_constant("python ipc._capi.CONSTANTS", name, value, api, report)
    report.bound["python"] = bound
    report.counts["python"] = (len(data["prototypes"]), len(data["constants"]))


# ---------------------------------------------------------------------------

@dataclass
class Report:
    errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    bound: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


def check_library(api, library, report):
    import ctypes
    lib = ctypes.CDLL(str(Path(library).resolve()))
    for name, fn in sorted(api.functions.items()):
        if not hasattr(lib, name):
            report.errors.append(f"{fn.where}: {name} is declared IPC_API but {library} does not export it")


def read_exceptions(path):
    """{language: {function: reason}} from unbound.txt, or None without the file."""
    if not path.exists():
        return None
    exceptions = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise SystemExit(f"{path}:{number}: expected 'LANGUAGE FUNCTION REASON'")
        exceptions.setdefault(parts[0], {})[parts[1]] = parts[2]
    return exceptions


def run(root, library=None, out=sys.stdout):
    """Runs every check on the tree at root; returns the Report."""
    report = Report()
    headers = sorted((Path(root) / "include" / "ipc").glob("*.h"))
    try:
        api = parse_headers(headers)
    except ValueError as e:
        report.errors.append(f"headers: {e}")
        return report
    if library:
        check_library(api, library, report)
    check_julia(root, api, report)
    check_python(root, api, library, report)
    print(f"headers: {len(api.functions)} functions, {len(api.constants)} constants, "
          f"{len(api.structs)} structs, {len(api.handles)} handle types", file=out)
    exceptions = read_exceptions(Path(root) / "tests" / "conformance" / "unbound.txt")
    for language, (nfun, nconst) in sorted(report.counts.items()):
        unbound = sorted(set(api.functions) - report.bound[language])
        print(f"{language}: {nfun} bound calls checked, {nconst} constants checked", file=out)
        if exceptions is None:
            if unbound:
                print(f"{language}: not bound (information): {', '.join(unbound)}", file=out)
            continue
        allowed = exceptions.get(language, {})
        for name in unbound:
            if name not in allowed:
                report.errors.append(f"{language}: {name} is exported but not bound; bind it, or list it in "
                                     f"tests/conformance/unbound.txt with the reason")
        for name in sorted(allowed):
            if name not in unbound:
                report.errors.append(f"tests/conformance/unbound.txt: {language} {name} is bound (or not "
                                     f"exported): remove the exception")
        if allowed:
            print(f"{language}: deliberately not bound: {', '.join(sorted(allowed))}", file=out)
    for note in report.notes:
        print(note, file=out)
    for error in report.errors:
        print("MISMATCH " + error, file=out)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", help="the source root")
    parser.add_argument("--library", help="the built libipc.so.1")
    args = parser.parse_args(argv)
    report = run(args.root, args.library)
    if report.errors:
        print(f"conformance: {len(report.errors)} mismatches", file=sys.stderr)
        return 1
    print("conformance: the bindings agree with the headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
