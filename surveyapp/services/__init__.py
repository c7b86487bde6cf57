"""Domain services: Flask-free, taking a session and plain values, flushing, never committing.

Cross-cutting: errors, access (the scope of every read and write), audit, periods, validation.
Domains: instruments, org (units, counters, links, QR, campaigns, fields), collection (targets,
submissions, rollup, bulk inserts, imports, tables, moderation, anomalies), feedback (cases),
reporting (counts, figures, dashboards, ranking, Thông tư 01, PAR), exports (scores, responses,
writers, jobs), accounts (officials, API tokens); demo seeds a demo province.
"""
