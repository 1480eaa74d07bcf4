# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython

cdef class Bucket:
    cdef public double tokens, stamp

cdef class RateLimiter:
    cdef public double rate, burst
    cdef public dict buckets
    cdef public Py_ssize_t max_keys
    cdef public long limited
    @cython.locals(b=Bucket, tokens=double)
    cpdef double check(self, key, double now)

cdef class WaitQueue:
    cdef public object waiters
    cdef public Py_ssize_t size
    cdef public double timeout
    cdef public long rejected, timed_out
