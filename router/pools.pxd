# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython
from .upstream cimport Upstream

cdef class Level:
    cdef public long priority
    cdef public list hosts
    cdef public object policy

cdef class Balancer:
    cdef public object cfg, upstreams, _rand
    cdef public list levels, _loads
    cdef public double _loads_at
    @cython.locals(level=Level)
    cpdef select(self, key, exclude, long max_conc)
    @cython.locals(up=Upstream, u=Upstream, usable=Py_ssize_t, avail=Py_ssize_t)
    cpdef _pick(self, Level level, double now, key, exclude, long max_conc)
