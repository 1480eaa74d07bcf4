"""Domain helpers that several function groups share: interior cards, notifications, dictionaries,
downloads, image objects, catalogue paging, user deletion, text (slugs, sanitised descriptions).

What only one group uses lives in that group's package (`functions/<group>/`), not here.
"""
