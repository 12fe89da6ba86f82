"""The assigner's repository: every SQL statement of the service, over one unit of work.

- :class:`TicketStore`: tickets, replies, round-robin cursors (the routing path);
- :class:`ReadModelStore`: what other services' events tell the desk;
- :class:`DeskStore`: what the desk's routes read and write;
- :class:`ReportStore`: the managers' reports.
"""

from socialdesk_assigner.store.desk import DeskStore
from socialdesk_assigner.store.readmodel import ReadModelStore
from socialdesk_assigner.store.tickets import TicketStore, as_ticket

__all__ = ["DeskStore", "ReadModelStore", "TicketStore", "as_ticket"]
