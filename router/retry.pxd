# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cdef class RetryBudget:
    cdef public double ratio
    cdef public long minimum, active, retrying, granted, denied
    cpdef double limit(self)
    cpdef bint acquire(self)
    cpdef release(self, long n)
