# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
from .connpool cimport UpstreamConn

cdef class Attempt:
    cdef public object ex, up, timer, transport
    cdef public UpstreamConn conn
    cdef public double started
    cdef public bint done, keep_alive, sent_all, chunked
    cpdef start(self)
    cpdef bind(self, UpstreamConn conn)
    cpdef body(self, bytes chunk)
    cpdef body_end(self)
    cpdef finish(self, bint reuse)
