"""JSON logs, one object a line, carrying the ticket and correlation ids of the work at hand."""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from pythonjsonlogger.json import JsonFormatter

__all__ = ["bind_event", "configure_logging", "log_context"]

_ticket_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("ticket_id", default=None)
_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
_service: str = "socialdesk"


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service
        record.ticket_id = _ticket_id.get()
        record.correlation_id = _correlation_id.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record of the process to stdout as JSON."""
    global _service
    _service = service
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(ticket_id)s %(correlation_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty about rebalances at INFO; keep its warnings.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


@contextmanager
def log_context(*, ticket_id: object | None, correlation_id: object | None) -> Iterator[None]:
    """Within the block, every log line carries these ids."""
    t1 = _ticket_id.set(str(ticket_id) if ticket_id is not None else None)
    t2 = _correlation_id.set(str(correlation_id) if correlation_id is not None else None)
    try:
        yield
    finally:
        _ticket_id.reset(t1)
        _correlation_id.reset(t2)


def bind_event(event: object) -> AbstractContextManager[None]:
    """``log_context`` from an event's envelope."""
    return log_context(
        ticket_id=getattr(event, "ticket_id", None), correlation_id=getattr(event, "correlation_id", None)
    )
