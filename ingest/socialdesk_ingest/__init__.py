"""ingest: verifies and normalises every delivery, drops duplicates, threads messages into
conversations and tickets, and publishes ``MessageReceived``."""
