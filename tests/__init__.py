"""Cross-service tests: integration (real broker and PostgreSQL) and end to end."""
