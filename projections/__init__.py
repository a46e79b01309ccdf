"""Read models, one per module, and the runner that feeds them from each tenant's ledger."""
