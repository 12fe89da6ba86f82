"""Unit tests of the shared runtime (no IO beyond tmp files)."""
