"""Instruments: definitions (parse and validate), publishing, snapshots of published versions."""
