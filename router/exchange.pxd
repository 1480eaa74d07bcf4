# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython
from .attempt cimport Attempt
from .core cimport RouterCore
from .response cimport ResponseWriter
from .upstream cimport Upstream

cdef class Exchange(ResponseWriter):
    cdef public object attempts, tried, upstream
    cdef public int tries, retries
    cdef public bint continued
    cpdef start(self)
    @cython.locals(router=RouterCore, up=Upstream)
    cpdef next_try(self)
    @cython.locals(a=Attempt)
    cpdef launch(self, Upstream up)
    @cython.locals(router=RouterCore, up=Upstream, now=double)
    cpdef on_headers(self, Attempt a, status, list headers)
    cpdef on_complete(self, Attempt a)
    @cython.locals(router=RouterCore)
    cpdef end(self, bint keep)
