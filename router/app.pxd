# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
cimport cython
from .limits cimport RateLimiter
from .pools cimport Balancer
from .retry cimport RetryBudget
from .status cimport Stats

cdef class Router:
    cdef public object cfg, config_path, cli, ops_path, loop, clock, _rand, conns, server, new_exchange
    cdef public Balancer balancer
    cdef public RetryBudget budget
    cdef public object outlier, health, access, worker_metrics, trusted, retry_on, hash_header, hash_cookie
    cdef public RateLimiter ratelimiter
    cdef public Stats stats
    cdef public long ops_offset, reloads, max_header_bytes, max_body_bytes, max_replay, max_conc
    cdef public double now, started, per_try_timeout, ewma_decay, log_sample, spin_min
    cdef public bint shutting_down, spinning, try_timer, try_sweep, hash_watched
    cpdef dispatch(self, down, req)
    @cython.locals(dur=double, now=double, sample=double)
    cpdef log_exchange(self, ex, int status, double start)
