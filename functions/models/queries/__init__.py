"""The models group's SQL, by concern: lists.py (list, count, counts, cart), detail.py (one model,
its community extras, views), writes.py (every write statement)."""
