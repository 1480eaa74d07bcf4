"""The API's error envelope, used for every response the router itself generates."""

from __future__ import annotations

import json

REASONS = {
    400: ("validation", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("access_denied", "Forbidden"),  # the API's reason for 403 (shared/http/errors.py)
    404: ("not_found", "Not Found"),
    405: ("method_not_allowed", "Method Not Allowed"),
    408: ("timeout", "Request Timeout"),
    413: ("payload_too_large", "Payload Too Large"),
    429: ("rate_limited", "Too Many Requests"),
    431: ("headers_too_large", "Request Header Fields Too Large"),
    500: ("internal", "Internal Server Error"),
    501: ("not_implemented", "Not Implemented"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}


def error_response(status: int, message: str, request_id: str, *, reason: str | None = None,
                   retry_after: float | None = None, close: bool = False) -> bytes:
    """A complete HTTP/1.1 response (head and body) in the API's error envelope."""
    code, phrase = REASONS.get(status, ("error", "Error"))
    body = json.dumps({
        "success": False,
        "message": message,
        "reason": reason or code,
        "request_id": request_id,
        "error": {"status": status},
    }, separators=(",", ":")).encode()
    head = [
        f"HTTP/1.1 {status} {phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        f"X-Request-Id: {request_id}",
        "Cache-Control: no-store",
    ]
    if retry_after is not None:
        head.append(f"Retry-After: {max(1, int(retry_after + 0.999))}")
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def simple_response(status: int, content_type: str, body: bytes, request_id: str,
                    extra: tuple[tuple[str, str], ...] = (), close: bool = False) -> bytes:
    phrase = REASONS.get(status, ("", "OK" if status == 200 else "Status"))[1] if status != 200 else "OK"
    head = [f"HTTP/1.1 {status} {phrase}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
            f"X-Request-Id: {request_id}", "Cache-Control: no-store"]
    head.extend(f"{k}: {v}" for k, v in extra)
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def head_only(response: bytes) -> bytes:
    """A HEAD request's answer: the head (Content-Length and all) without the body (RFC 9110 9.3.2)."""
    return response[:response.index(b"\r\n\r\n") + 4]
