"""Community: interiors, tags, saved items, comments, notifications, projects, statistics.

Seams other groups call:
    notify(conn, recipient_id=..., actor_id=..., type=...)   a notification inside the caller's transaction
    model_extras(model_id, viewer_id)                          `used_interiors` and `is_saved` for a model page
"""
