# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
from .core cimport RouterCore

cdef class Router(RouterCore):  # what the data path reads is declared in core.pxd
    cdef public object config_path, cli, server, health
    cdef public long ops_offset
    cdef public double spin_min
    cdef public bint try_sweep
