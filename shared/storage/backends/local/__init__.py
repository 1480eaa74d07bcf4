"""The local directory backend: the embedded default, also what tests and `make run` use.

storage.py is the `Storage` implementation; writer.py streams an object into a temp file and renames it
into place, through sinks.py (`O_DIRECT` where the filesystem allows it) and writeback.py (starts the
kernel's writeback while the upload is still arriving); multipart.py keeps R2's multipart rules on disk;
signing.py signs the URLs that `functions/files` checks.
"""

from shared.storage.backends.local.storage import FILES_ROUTE, LocalStorage

__all__ = ["FILES_ROUTE", "LocalStorage"]
