"""Forwarding to national (推荐全国) and the national intake."""
