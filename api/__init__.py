"""The Litestar app: controllers per resource, schemas, the error map, logging, the CLI."""
