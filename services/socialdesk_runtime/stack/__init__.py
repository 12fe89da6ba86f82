"""The stack launcher: ``make run`` (``python -m socialdesk_runtime.stack run``).

Starts the embedded broker and PostgreSQL (or uses external ones from the
environment), the five services as supervised processes, optionally replays a demo
stream, and shows live what happens. The :class:`Supervisor` is reusable on its own:
the end-to-end tests run the five services with it and SIGKILL one mid-stream.

Usage::

    from socialdesk_runtime.stack import Supervisor, service_specs, StackEndpoints
"""

from socialdesk_runtime.stack.services import STACK_SERVICES, StackEndpoints, StackService, service_specs
from socialdesk_runtime.stack.specs import RestartPolicy, ServiceSpec, ServiceStatus
from socialdesk_runtime.stack.supervisor import Supervisor, SupervisorError

__all__ = [
    "STACK_SERVICES",
    "RestartPolicy",
    "ServiceSpec",
    "ServiceStatus",
    "StackEndpoints",
    "StackService",
    "Supervisor",
    "SupervisorError",
    "service_specs",
]
