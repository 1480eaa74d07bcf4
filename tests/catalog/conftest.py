"""The dictionaries tests need only the client and the accounts of tests/conftest.py."""
