"""One plain ASGI middleware per concern, each configured by arguments and testable alone."""
