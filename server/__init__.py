"""Flint's server: the Litestar app, its domains, the SQLite store and the scheduler."""
