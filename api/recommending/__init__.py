"""Recommending units' forms (推荐表), statistics tables and work summaries."""
