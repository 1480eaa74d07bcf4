# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython

cdef class ConnHandler:
    cpdef on_up_headers(self, status, list headers, bint keep_alive)
    cpdef on_up_body(self, bytes chunk)
    cpdef on_up_complete(self)
    cpdef on_up_flush(self)

cdef class UpstreamConn:
    cdef public object pool, transport, parser, headers, tunnel, data, raw_head
    cdef public ConnHandler handler
    cdef public bint closed, reset_parser, interim, fresh, in_msg, release_later
    cdef public double idle_since
    cdef public long served
    @cython.locals(data=bytes, end=Py_ssize_t)
    cpdef _raw_head(self)

cdef class ConnPool:
    cdef public object host, port, idle
    cdef public double idle_timeout, connect_timeout
    cdef public Py_ssize_t max_idle
    cdef public bint closing
    cdef public long opened
    cpdef UpstreamConn acquire(self)
    cpdef release(self, UpstreamConn conn)
