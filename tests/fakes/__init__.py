"""Local HTTP servers that behave like the outside SaaS we cannot reach in tests.

``FakeSlack`` (Slack Web API), ``FakeMeta`` (Graph send APIs: Messenger, Instagram, Page
comments, WhatsApp Cloud API) and ``FakeX`` (X API v2 DMs and posts). Each is a real
server on ``127.0.0.1:<free port>`` in a background thread, used as a context manager
from sync or async tests. See ``docs/decisions/0003-fakes-and-deploy.md``.
"""

from tests.fakes.meta import FakeMeta
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX

__all__ = ["FakeMeta", "FakeSlack", "FakeX"]
