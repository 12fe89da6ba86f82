"""The assigner's consumer handlers, one per consumed event type.

``MessageClassified`` is handled a whole consumed batch at once: what routing needs is
read in a few queries, every message is routed in memory in record order (the domain
keeps the rotation current), and the results are written in a few statements.

The rest feed the desk's read model (decision: the desk never reads another service's
store): customer messages and their edits and deletions, replies typed in a platform's
own inbox, SLA clocks, warnings, breaches and escalations, reply delivery states,
incident groups. Each also leaves a line in the ticket's history.
"""

from socialdesk_assigner.handlers.readmodel import ReadModelHandlers
from socialdesk_assigner.handlers.routing import on_message_classified

__all__ = ["ReadModelHandlers", "on_message_classified"]
