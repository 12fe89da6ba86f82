"""sla-monitor's own metrics."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class SlaMetrics:
    timers_armed: Gauge
    oldest_overdue_seconds: Gauge
    warnings: Counter
    breaches: Counter
    escalations: Counter
    met: Counter
    fire_lateness_seconds: Histogram
    hot_topic_tightened: Counter
    scheduler_passes: Counter
    parked: Counter
    acknowledged: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> "SlaMetrics":
        return cls(
            timers_armed=Gauge(
                "sla_monitor_timers_armed",
                "Live SLA timers (armed or paused, not yet met), by clock",
                ["metric"],
                registry=registry,
            ),
            oldest_overdue_seconds=Gauge(
                "sla_monitor_oldest_overdue_seconds",
                "How long ago the oldest deadline still unanswered passed (0: none overdue)",
                registry=registry,
            ),
            warnings=Counter(
                "sla_monitor_warnings_total", "SLA warnings sent", ["metric", "priority"], registry=registry
            ),
            breaches=Counter(
                "sla_monitor_breaches_total",
                "SLA deadlines missed",
                ["brand", "metric", "priority"],
                registry=registry,
            ),
            escalations=Counter(
                "sla_monitor_escalations_total", "Escalations up the ladder", ["to_level"], registry=registry
            ),
            met=Counter(
                "sla_monitor_timers_met_total",
                "Timers stopped by a response, by whether it was in time",
                ["metric", "outcome"],
                registry=registry,
            ),
            fire_lateness_seconds=Histogram(
                "sla_monitor_fire_lateness_seconds",
                "How long after its due time a warning or breach was emitted",
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0, 300.0),
                registry=registry,
            ),
            hot_topic_tightened=Counter(
                "sla_monitor_hot_topic_tightened_total",
                "Live timers tightened because their incident group became a hot topic",
                registry=registry,
            ),
            scheduler_passes=Counter(
                "sla_monitor_scheduler_passes_total",
                "Passes of the scheduler over the due timers (each judged them at one instant)",
                registry=registry,
            ),
            parked=Counter(
                "sla_monitor_timers_parked_total",
                "Timers the scheduler could not decide (poison), set aside so the others still fire",
                ["metric"],
                registry=registry,
            ),
            acknowledged=Counter(
                "sla_monitor_acknowledgements_total",
                "Acknowledge clicks read: 'stopped' the climb of breached clocks, or found 'nothing' climbing",
                ["outcome"],
                registry=registry,
            ),
        )
