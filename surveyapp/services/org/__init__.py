"""The organisation: units and counters with their QR tokens, dossier links, QR posters, campaigns,
service fields."""
