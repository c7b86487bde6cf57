"""Dossiers in from the province's one-stop system: the record schema and the batch upsert."""
