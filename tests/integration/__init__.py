"""Tests against the real embedded broker and PostgreSQL (marker ``integration``)."""
