# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
from .attempt cimport Attempt
from .response cimport ResponseWriter

cdef class Exchange(ResponseWriter):
    cdef public object attempts, tried, upstream
    cdef public int tries, retries
    cdef public bint hedged, paused_client, continued
    cpdef start(self)
    cpdef on_headers(self, Attempt a, status, list headers)
    cpdef on_complete(self, Attempt a)
    cpdef end(self, bint keep)
