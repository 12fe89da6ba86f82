"""sla-monitor's rules on plain data: SLA targets, timers, the escalation ladder, calendars.

Every function here is pure: it takes the configuration's data, timers and events, and
the current instant ``now`` as an argument, and returns decisions (a changed
:class:`Timer`, the events to emit). The store loads and saves timers; the handlers and
the scheduler call these functions and emit what they return.

A ticket may run several clocks at once, one :class:`Timer` per ``(ticket_id, metric)``
(first response today; next response and resolution are the same shape with another
``metric`` and start): nothing below assumes which metric a timer measures, except
:data:`STOPPED_BY_REPLY`.

Usage::

    timer = arm(assigned, metric=FIRST_RESPONSE, started_at=assigned.received_at,
                policy=config.sla, hot=False)
    fired = warn(timer, now)            # Fired(timer=<warned>, events=(SlaWarning,))
    fired = breach(timer, now, config)  # SlaBreached + TicketEscalated to the brand lead
"""

from socialdesk_sla_monitor.domain.firing import breach, climb, warn
from socialdesk_sla_monitor.domain.policy import (
    breach_from,
    escalation_target,
    is_open,
    next_rung,
    on_call,
    rank,
    target_seconds,
)
from socialdesk_sla_monitor.domain.timers import (
    FIRST_RESPONSE,
    LIVE,
    PRODUCER,
    STOPPED_BY_REPLY,
    Fired,
    Stopped,
    Timer,
    TimerState,
    arm,
    arm_many,
    cancel,
    first_replies,
    merge_armed,
    park,
    reply_placeholder,
    stop,
    tighten,
)

__all__ = [
    "FIRST_RESPONSE",
    "LIVE",
    "PRODUCER",
    "STOPPED_BY_REPLY",
    "Fired",
    "Stopped",
    "Timer",
    "TimerState",
    "arm",
    "arm_many",
    "breach",
    "breach_from",
    "cancel",
    "climb",
    "escalation_target",
    "first_replies",
    "is_open",
    "merge_armed",
    "next_rung",
    "on_call",
    "park",
    "rank",
    "reply_placeholder",
    "stop",
    "target_seconds",
    "tighten",
    "warn",
]
