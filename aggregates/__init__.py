"""The domain: one aggregate per module, with its events and exceptions; no I/O, no clock."""
