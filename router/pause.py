"""Why a client connection stopped reading, as bits of ``Downstream.paused``; reading resumes once
no reason is left.

A module of its own, importing nothing, because the compiled build loads ``server`` and ``app``
through each other (each needs the other's C type): a constant defined in either one would not
exist yet when the modules in between import it.
"""

P_UPSTREAM = 1  # the upstream cannot take more of the request body
P_PENDING = 2  # too much body is buffered while no try is connected
P_PIPELINE = 4  # too many pipelined requests are queued
