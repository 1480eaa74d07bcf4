"""User-level operations that span several tables (deletion, bans)."""
