"""The Freshdesk connector's rules on plain data: no I/O, time passed in."""
