# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cdef class Stats:
    cdef public dict codes
    cdef public list hist
    cdef public double dur_sum
    cdef public long count, retries, hedges
    cpdef observe(self, status, double seconds)
