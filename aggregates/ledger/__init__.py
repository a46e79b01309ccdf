"""The command layer: the tenant's ledger application (application.py: every command of every context, one class each), its base (load, save, one retry helper, the tenant's facts)."""
