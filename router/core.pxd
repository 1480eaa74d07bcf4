# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython
from .limits cimport RateLimiter
from .pools cimport Balancer
from .retry cimport RetryBudget
from .stats cimport Stats

cdef class RouterCore:
    cdef public object cfg, loop, clock, _rand, conns, ops_path, worker_metrics, new_exchange, new_internal
    cdef public Balancer balancer
    cdef public RetryBudget budget
    cdef public object outlier, access, trusted, retry_on, hash_header, hash_cookie
    cdef public RateLimiter ratelimiter
    cdef public Stats stats
    cdef public long reloads, max_header_bytes, max_body_bytes, max_replay, max_conc
    cdef public double now, started, per_try_timeout, ewma_decay, log_sample
    cdef public bint shutting_down, spinning, try_timer, hash_watched
    cpdef dispatch(self, down, req)
    @cython.locals(dur=double, now=double, sample=double)
    cpdef log_exchange(self, ex, int status, double start)
