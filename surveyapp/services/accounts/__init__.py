"""Officials accounts and their API tokens."""
