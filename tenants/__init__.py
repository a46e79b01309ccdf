"""Tenancy as a mechanism: the tenant registry, each tenant's store and runtime, settings."""
