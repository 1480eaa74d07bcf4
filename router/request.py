"""One parsed client request, and where its body goes: to the current try, or held until one binds,
with a copy kept while the body is small enough to be sent again on a retry."""

from __future__ import annotations

from typing import Any, Protocol

from .pause import P_PENDING

PENDING_PAUSE = 256 * 1024  # body bytes held for a try that has not bound yet before reading pauses


class ClientReads(Protocol):
    """What a request needs of its client connection (``server.Downstream``): pausing its reads
    while too much body waits for a try."""

    paused: int

    def set_pause(self, bit: int, on: bool) -> None: ...


class Request:
    """One parsed client request. Body chunks flow to ``sink`` (the current try) or wait in
    ``pending``; ``replay`` keeps a copy while the body is small enough to resend on a retry."""

    __slots__ = (
        "method", "url", "http11", "keep_alive", "upgrade", "upgrade_hdr", "rid", "client_ip", "head",
        "chunked", "content_length", "idempotent", "hash_key", "pending", "pending_bytes", "replay",
        "consumed", "body_bytes", "body_done", "sink", "start", "down", "max_replay", "host",
    )

    def __init__(self, down: ClientReads, max_replay: int) -> None:
        self.down = down
        self.max_replay = max_replay
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.replay: list[bytes] | None = []
        self.consumed = False
        self.body_bytes = 0
        self.body_done = False
        self.sink: Any = None
        self.hash_key: bytes | None = None

    @property
    def request_id(self) -> str:
        """Decoded only when needed (errors, sampled log lines); the hot path keeps bytes."""
        return self.rid.decode()

    def has_body(self) -> bool:
        return self.chunked or self.content_length > 0

    def feed(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        if self.replay is not None:
            if self.body_bytes <= self.max_replay:
                self.replay.append(chunk)
            else:
                self.replay = None
        if self.sink is not None:
            self.sink.body(chunk)
        else:
            self.pending.append(chunk)
            self.pending_bytes += len(chunk)
            if self.pending_bytes > PENDING_PAUSE:
                self.down.set_pause(P_PENDING, True)

    def attach(self, sink: Any) -> list[bytes] | None:
        """Bind a try; returns the chunks it must send first, or None if the body cannot be replayed."""
        if not self.consumed:
            chunks = self.pending
        elif self.replay is not None:
            chunks = list(self.replay)
        else:
            return None
        self.pending = []
        self.pending_bytes = 0
        self.consumed = True
        self.sink = sink
        if self.down.paused & P_PENDING:
            self.down.set_pause(P_PENDING, False)
        return chunks

    def replayable(self) -> bool:
        return not self.consumed or self.replay is not None
