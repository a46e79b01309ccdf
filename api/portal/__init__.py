"""The web portal: server-rendered pages of the same app, one module per channel (PORTAL.md)."""
