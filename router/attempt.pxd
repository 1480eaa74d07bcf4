# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
from .connpool cimport ConnHandler, UpstreamConn
from .core cimport RouterCore
from .request cimport Request
from .server cimport Downstream
from .upstream cimport Upstream

cdef class Attempt(ConnHandler):
    cdef public ExchangeBase ex
    cdef public Upstream up
    cdef public object timer, transport
    cdef public UpstreamConn conn
    cdef public double started, connected
    cdef public bint done, keep_alive, sent_all, chunked
    cpdef start(self)
    cpdef bind(self, UpstreamConn conn)
    cpdef body(self, bytes chunk)
    cpdef body_end(self)
    cpdef finish(self, bint reuse)
    cpdef on_up_headers(self, status, list headers, bint keep_alive)
    cpdef on_up_body(self, bytes chunk)
    cpdef on_up_complete(self)
    cpdef on_up_flush(self)

cdef class ExchangeBase:
    cdef public RouterCore router
    cdef public Downstream down
    cdef public Request req
    cdef public bint paused_client
    cpdef on_headers(self, Attempt a, status, list headers)
    cpdef on_body(self, a, bytes chunk)
    cpdef on_complete(self, Attempt a)
    cpdef flush_head(self)
