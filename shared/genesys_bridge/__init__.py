"""Genesys Analytics Bridge: the project's own package, shipped in the Lambda layer."""
