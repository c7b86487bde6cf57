"""Collecting responses: targets, submissions, the rollup, bulk inserts, imports of files,
moderation and the anomaly flags."""
