"""Audit (审计): histories, recomputation, the hash chain, packages, read trails."""
