# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython
from .core cimport RouterCore
from .request cimport Request

cdef class Downstream:
    cdef public RouterCore router
    cdef public object transport, parser, peer, peer_b, pipeline, url, header_parts, content_length
    cdef public object transfer_encoding, forwarded_for, forwarded_proto, forwarded_host, rid, conn_hdr, upgrade_hdr
    cdef public object host, cookie, hash_hdr
    cdef public object tunnel, upgrade_buf, exchange
    cdef public Request parsing, current
    cdef public bint trusted, has_idempotency_key, closed, write_paused, fresh, in_msg, dropped, broken
    cdef public bytes data
    cdef public Py_ssize_t head_bytes, unparsed, hosts
    cdef public int error, paused
    cdef public double last_active, header_started
    cpdef set_pause(self, int bit, bint on)
    cpdef write(self, bytes data)
    cpdef finish(self, bint keep_alive)
    cpdef start(self, Request req)
    @cython.locals(data=bytes, k=Py_ssize_t, end=Py_ssize_t)
    cpdef _raw_head(self, bytes method)
