"""Feedback cases: opened from comments and low ratings, handled by officials."""
