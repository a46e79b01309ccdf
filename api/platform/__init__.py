"""What every context shares: access, the boundary, errors, schemas' bases, security, mail, logging, metrics, health, exports' writers."""
