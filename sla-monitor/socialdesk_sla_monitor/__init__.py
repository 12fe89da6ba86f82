"""sla-monitor: a durable timer per ticket and SLA metric; warns, breaches, escalates."""
