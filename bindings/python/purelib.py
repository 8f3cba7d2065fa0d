"""Prints where to install the package: meson's purelib when the interpreter
searches it, else the interpreter's first site directory under the prefix.
Debian's scheme gives <prefix>/lib/python3/dist-packages, which is on
sys.path for /usr but not for /usr/local."""

import site
import sys

prefix, default = sys.argv[1].rstrip("/"), sys.argv[2]
sites = site.getsitepackages()
print(default if default in sites else next((d for d in sites if d.startswith(prefix + "/")), default))
