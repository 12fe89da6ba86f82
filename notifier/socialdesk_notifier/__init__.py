"""notifier: the only service that talks outward (Slack, platform send APIs); never twice."""
