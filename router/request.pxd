# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.

cdef class Request:
    cdef public object method, url, rid, client_ip, head, upgrade_hdr, host, hash_key, sink, replay, pending
    cdef public object content_length  # a Python int: llhttp admits lengths beyond 2**63
    cdef public bint http11, keep_alive, upgrade, chunked, idempotent, consumed, body_done
    cdef public Py_ssize_t pending_bytes, body_bytes, max_replay
    cdef public double start
    cdef public object down  # the Downstream; untyped, as server.pxd cimports this file (request.ClientReads)
    cpdef feed(self, bytes chunk)
    cpdef attach(self, sink)
    cpdef bint replayable(self)
