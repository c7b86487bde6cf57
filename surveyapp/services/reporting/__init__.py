"""Reporting: counts from the database, figures, dashboards, rankings, Thông tư 01, PAR points."""
