# Cython declarations for the compiled build of the module beside this file (see router/build.py).
# The .py file stays the source; this adds C types for its attributes and calls on the hot path.
from .connpool cimport ConnPool
from .limits cimport WaitQueue

cdef class Upstream:
    cdef public object url, host, pool_name, last_probe_error
    cdef public ConnPool conns
    cdef public WaitQueue queue
    cdef public long port, priority
    cdef public double weight, ejected_until, last_ejection, ewma, ewma_stamp, slow_start_at, last_probe
    cdef public bint active_healthy, draining, removed
    cdef public long ejections, ejection_streak, consecutive_failures, inflight, requests
    cdef public long responses_2xx, responses_3xx, responses_4xx, responses_5xx
    cdef public long connect_errors, timeouts, resets, retries, health_fails, health_oks
    cpdef bint available(self, double now)
    cpdef double slow_start_factor(self, double now, double window, double min_factor)
    cpdef observe_latency(self, double seconds, double now, double decay)
    cpdef count_status(self, long status)
