"""The R2/S3 backend over boto3 (imported on the first request, never at import time).

storage.py is the `Storage` implementation; client.py holds the endpoint settings, the lazily built
client and the translation of boto errors into `StorageError`s; writer.py streams an object as equal
multipart parts, one part in memory.
"""

from shared.storage.backends.s3.client import S3Endpoint
from shared.storage.backends.s3.storage import S3Storage

__all__ = ["S3Endpoint", "S3Storage"]
