"""socialdesk."""
