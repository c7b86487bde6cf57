"""The PAR-index survey as a province runs it: its settings per level and year."""
