"""The Freshdesk connector (issue 13): socialdesk tickets kept in Freshdesk, and agents'
replies and resolutions there brought back as events.

Its own concern inside the notifier (the only service that talks outward): ``domain/``
(pure rules), ``store`` (its SQL), ``handlers`` (events → ordered operations owed),
``client`` (the REST API v2), ``pacing`` and ``worker`` (sends, within the account's
rate budget), ``api`` (the Automation-rule webhook), ``cli`` (backfill, reconcile).
See docs/decisions/0401-freshdesk-sync.md.
"""
