"""A stand-in for the AWS Lambda Runtime API (version 2018-06-01), and a function process using it.

Lambda cannot run here, but the runtime interface client (`awslambdaric`, what Lambda's Python
runtimes run) can: it is a real process that long-polls `GET /runtime/invocation/next`, calls the
handler and posts `/invocation/{id}/response` or `/invocation/{id}/error`, or `/init/error` when the
handler cannot be loaded. `RuntimeApi` is one execution environment's endpoint: a real HTTP/1.1
server on 127.0.0.1 that queues events and records what the runtime posts back, with the status
codes and bodies of AWS's API reference (202 accepted, 400 unknown request id, 403 invalid state,
413 payload too large). `FunctionProcess` starts `python -m awslambdaric <handler>` against it with
the environment Lambda gives a function.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Invocation:
    request_id: str
    body: bytes
    deadline_ms: int
    trace_id: str
    dispatched: bool = False


@dataclass
class Posted:
    """What the runtime posted: `kind` is response, error or init_error; `headers` lower-cased (the
    client's C and Python halves spell them differently); `arrived` is perf_counter() at receipt."""

    kind: str
    body: bytes
    headers: dict[str, str]
    arrived: float = field(default_factory=time.perf_counter)

    def json(self) -> Any:
        return json.loads(self.body)


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A function process killed mid-request is what tests do on purpose: not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeApi:
    """One execution environment's Runtime API: `invoke()` queues an event, `result()` waits for its answer."""

    def __init__(self, function_arn: str = "arn:aws:lambda:eu-central-1:000000000000:function:tridmo",
                 timeout_s: float = 29.0) -> None:
        self.function_arn = function_arn
        self.timeout_s = timeout_s
        self._lock = threading.Condition()
        self._queue: deque[Invocation] = deque()
        self._invocations: dict[str, Invocation] = {}
        self._posted: dict[str, Posted] = {}
        self.init_errors: list[Posted] = []
        self.polls = 0  # GET /next requests received: a runtime that polled has finished its init
        self._stopping = False
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="lambda-runtime-api", daemon=True)

    @property
    def address(self) -> str:
        """The `AWS_LAMBDA_RUNTIME_API` value: host:port."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> RuntimeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RuntimeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invoke(self, event: Any) -> str:
        """Queue an event (JSON-serialisable, or raw bytes); returns its request id."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        invocation = Invocation(str(uuid.uuid4()), body, int((time.time() + self.timeout_s) * 1000), _trace_id())
        with self._lock:
            self._invocations[invocation.request_id] = invocation
            self._queue.append(invocation)
            self._lock.notify_all()
        return invocation.request_id

    def result(self, request_id: str, timeout: float = 30.0) -> Posted:
        """The response or error the runtime posted for `request_id`, waiting for it (an init error
        means none will come: it raises at once)."""
        with self._lock:
            if not self._lock.wait_for(lambda: request_id in self._posted or self.init_errors, timeout):
                raise TimeoutError(f"no response or error for invocation {request_id} within {timeout}s")
            if request_id not in self._posted:
                raise RuntimeError(f"the function failed its init: {self.init_errors[0].body.decode()}")
            return self._posted[request_id]

    def init_error(self, timeout: float = 30.0) -> Posted:
        with self._lock:
            if not self._lock.wait_for(lambda: bool(self.init_errors), timeout):
                raise TimeoutError(f"no init error within {timeout}s")
            return self.init_errors[0]

    # --- called from the server's request threads -------------------------------------------

    def _next(self, peer_gone: Any) -> Invocation | None:
        """Long-poll: the next queued event, or None once stopping or when the runtime hung up."""
        with self._lock:
            self.polls += 1
            while True:
                if self._stopping:
                    return None
                if self._queue:
                    invocation = self._queue.popleft()
                    invocation.dispatched = True
                    return invocation
                self._lock.wait(0.05)
                if peer_gone():
                    return None

    def _requeue(self, invocation: Invocation) -> None:
        """The event could not be delivered (the runtime went away): give it to the next poller."""
        with self._lock:
            invocation.dispatched = False
            self._queue.appendleft(invocation)
            self._lock.notify_all()

    def _post(self, request_id: str, kind: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        with self._lock:
            invocation = self._invocations.get(request_id)
            if invocation is None:
                return 400, {"errorType": "InvalidRequestID", "errorMessage": f"unknown request id {request_id}"}
            if not invocation.dispatched or request_id in self._posted:
                return 403, {"errorType": "InvalidStateTransition",
                             "errorMessage": f"invocation {request_id} is not awaiting a response"}
            if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
                return 413, {"errorType": "RequestEntityTooLarge",
                             "errorMessage": f"response of {len(body)} bytes exceeds {MAX_RESPONSE_BYTES}"}
            self._posted[request_id] = Posted(kind, body, headers)
            self._lock.notify_all()
            return 202, {"status": "OK"}

    def _post_init_error(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        with self._lock:
            if self.polls:
                return 403, {"errorType": "InvalidStateTransition", "errorMessage": "init already completed"}
            self.init_errors.append(Posted("init_error", body, headers))
            self._lock.notify_all()
            return 202, {"status": "OK"}


def _handler_for(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the client keeps one connection for next and response

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read what was posted
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _peer_gone(self) -> bool:
            sock = self.connection
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            try:
                return sock.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                return True

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._send(404, b'{"errorType":"NotFound"}')
                return
            invocation = api._next(self._peer_gone)
            if invocation is None:
                self.close_connection = True
                return
            try:
                self._send(200, invocation.body, {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                    "Lambda-Runtime-Trace-Id": invocation.trace_id,
                })
            except OSError:
                api._requeue(invocation)
                raise

        def do_POST(self) -> None:
            body = self._read_body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            parts = self.path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                status, answer = api._post_init_error(body, headers)
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                status, answer = api._post(parts[1], parts[2], body, headers)
            else:
                status, answer = 404, {"errorType": "NotFound", "errorMessage": self.path}
            self._send(status, json.dumps(answer).encode())

    return Handler


def lambda_environment(api: RuntimeApi, handler: str, *, function_name: str = "tridmo",
                       memory_mb: int = 512) -> dict[str, str]:
    """The variables Lambda sets for a Python function (the ones our code or the client read)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {
        "AWS_LAMBDA_RUNTIME_API": api.address, "_HANDLER": handler, "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": function_name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb), "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1", "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}", "PYTHONUNBUFFERED": "1",
    }


class FunctionProcess:
    """`python -m awslambdaric <handler>` in a fresh interpreter, as Lambda starts a function.

    `handler` is `package.module.function`; the client imports `package.module` from the working
    directory (the project root, Lambda's task root). `env` is added to this process's environment.
    """

    def __init__(self, api: RuntimeApi, handler: str, env: dict[str, str] | None = None,
                 function_name: str = "tridmo", cwd: Path = ROOT) -> None:
        environment = {**os.environ, **(env or {}), **lambda_environment(api, handler, function_name=function_name)}
        self.api = api
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__; a file, not a pipe: never fills up
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", handler], cwd=cwd, env=environment,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def answer(self, request_id: str, timeout: float = 30.0) -> Posted:
        """`api.result()`, failing at once (with the function's output) when the process dies first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.api.result(request_id, min(0.5, max(deadline - time.monotonic(), 0)))
            except TimeoutError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the function exited ({self.process.returncode}):\n{self.output()}") from None
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no answer within {timeout}s; output:\n{self.output()}") from None

    def output(self) -> str:
        """What the function logged so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> FunctionProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
