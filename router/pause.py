"""Why a client connection stopped reading, as bits of ``Downstream.paused``; reading resumes once
no reason is left.

A module of its own, importing nothing, at the bottom of the import graph: ``server``, ``request``
and ``attempt`` all use the bits, and none of them has to import another for them.
"""

P_UPSTREAM = 1  # the upstream cannot take more of the request body
P_PENDING = 2  # too much body is buffered while no try is connected
P_PIPELINE = 4  # too many pipelined requests are queued
