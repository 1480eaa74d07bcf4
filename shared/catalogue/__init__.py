"""Catalogue logic and SQL: dictionaries, brands, models (lists, detail, writes, files), downloads.

One module per job, SQL next to the code that runs it; the function groups in `functions/` only
parse requests, check who is calling and shape answers.
"""
