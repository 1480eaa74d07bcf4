"""HTTP conventions shared by every function group: envelope, errors, validation, pagination."""
