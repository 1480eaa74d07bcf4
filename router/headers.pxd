# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython

cdef class RequestIds:
    cdef public Py_ssize_t count
    cdef public bytes stem
    @cython.locals(n=Py_ssize_t, low=Py_ssize_t)
    cpdef bytes next(self)
