"""Exports: the PAR scores file, the responses file, their writers and background jobs."""
