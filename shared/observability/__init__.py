"""Logging, metrics and request context; usable alone by functions, the router or a CLI."""
