# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython
from .upstream cimport Upstream

cdef class P2CEwma:
    cdef public object _rand
    cdef public double decay, fresh
    @cython.locals(a=Upstream, b=Upstream, n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, x=double, sa=double, sb=double,
                   la=double, lb=double, dt=double)
    cpdef choose(self, list cands, list weights, key, double now)
