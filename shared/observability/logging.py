"""JSON log lines on stdout, the shape Datadog's log pipeline parses without custom rules.

Each line carries the request id from the context and, when ddtrace is active in the process,
`dd.trace_id`/`dd.span_id` so logs and traces correlate. ddtrace is never imported here: if the
process was started under `ddtrace-run` (or datadog-lambda), it is already in `sys.modules`.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import msgspec

from shared.observability.context import current_request_id

_encoder = msgspec.json.Encoder()
_STD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
_configured = False


def _trace_ids() -> tuple[str, str] | None:
    ddtrace = sys.modules.get("ddtrace")
    if ddtrace is None:
        return None
    span = ddtrace.tracer.current_span()
    if span is None:
        return None
    return str(span.trace_id), str(span.span_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        ids = _trace_ids()
        if ids:
            entry["dd.trace_id"], entry["dd.span_id"] = ids
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error.stack"] = self.formatException(record.exc_info)
            entry["error.kind"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return _encoder.encode(entry).decode()


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON formatter on the root logger once per process."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "psycopg.pool", "botocore", "httpx", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
