"""Unit tests: no storage."""
