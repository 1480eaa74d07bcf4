"""The storage backends, one package each behind the `Storage` protocol (`shared.storage.base`).

`shared.storage.factory` picks one from the settings; nothing else names a backend class, except the
files route (which serves the local backend's signed URLs) and the tests.
"""
