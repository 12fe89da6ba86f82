"""sla-monitor's rules on plain data: SLA targets, timers, the escalation ladder, calendars.

Every function here is pure: it takes the configuration's data, timers and events, and
the current instant ``now`` as an argument, and returns decisions (a changed
:class:`Timer`, the events to emit). The store loads and saves timers; the handlers and
the scheduler call these functions and emit what they return.

A ticket runs up to three clocks at once, one :class:`Timer` per ``(ticket_id, metric)``:
first response and resolution from its opening, next response from each customer
message after an answer. Each counts the open hours of its calendar (24/7 or business
hours, :mod:`~socialdesk_sla_monitor.domain.calendar`).

Usage::

    opened = opening(assigned, config)
    timer = arm(opened, metric=FIRST_RESPONSE, config=config, hot=False)
    fired = warn(timer, now)            # Fired(timer=<warned>, events=(SlaWarning,))
    fired = breach(timer, now, config)  # SlaBreached + TicketEscalated to the brand lead
"""

from socialdesk_sla_monitor.domain.arming import (
    OPENING_CLOCKS,
    Opening,
    arm,
    arm_many,
    arm_next_response,
    first_response_met,
    merge_armed,
    opening,
    reprioritize,
    retarget,
)
from socialdesk_sla_monitor.domain.firing import acknowledge, breach, climb, warn
from socialdesk_sla_monitor.domain.follow_ups import promise, remind
from socialdesk_sla_monitor.domain.policy import (
    Facts,
    breach_from,
    calendar_for,
    calendar_named,
    escalation_target,
    is_open,
    next_rung,
    on_call,
    rank,
    start_level,
    target_seconds,
)
from socialdesk_sla_monitor.domain.timers import (
    FIRST_RESPONSE,
    FOLLOW_UP,
    LIVE,
    NEXT_RESPONSE,
    PRODUCER,
    RESOLUTION,
    STOPPED_BY_REPLY,
    Fired,
    StopOutcome,
    Stopped,
    Timer,
    TimerState,
    cancel,
    clock_armed,
    clock_completed,
    clock_stopped,
    first_replies,
    new_episode,
    park,
    pause,
    reply_placeholder,
    resume,
    sla_metric,
    stop,
    tighten,
)

__all__ = [
    "FIRST_RESPONSE",
    "FOLLOW_UP",
    "LIVE",
    "NEXT_RESPONSE",
    "OPENING_CLOCKS",
    "PRODUCER",
    "RESOLUTION",
    "STOPPED_BY_REPLY",
    "Facts",
    "Fired",
    "Opening",
    "StopOutcome",
    "Stopped",
    "Timer",
    "TimerState",
    "acknowledge",
    "arm",
    "arm_many",
    "arm_next_response",
    "breach",
    "breach_from",
    "calendar_for",
    "calendar_named",
    "cancel",
    "climb",
    "clock_armed",
    "clock_completed",
    "clock_stopped",
    "escalation_target",
    "first_replies",
    "first_response_met",
    "is_open",
    "merge_armed",
    "new_episode",
    "next_rung",
    "on_call",
    "opening",
    "park",
    "pause",
    "promise",
    "rank",
    "remind",
    "reply_placeholder",
    "reprioritize",
    "resume",
    "retarget",
    "sla_metric",
    "start_level",
    "stop",
    "target_seconds",
    "tighten",
    "warn",
]
