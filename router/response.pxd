# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
from .attempt cimport ExchangeBase

cdef class ResponseWriter(ExchangeBase):
    cdef public object winner, head_buf
    cdef public bint finished, chunk_out, keep
    cdef public int mode, status
    cdef public double t_headers
    cpdef start_response(self, int status, list headers, raw)
    cpdef build_head(self, int status, list headers)
    cpdef on_body(self, a, bytes chunk)
    cpdef flush_head(self)
    cpdef write_end(self)
