"""The SQLite store: one writer connection, readers beside it, migrations recorded in a table.

Every other module reaches SQL only through the `store` modules of its domain, which take a
`Tx` (or a read `Tx`) and return plain rows; a second backend replaces those modules, not the
routes or rules.
"""

from server.store.db import Database, Row, Tx

__all__ = ["Database", "Row", "Tx"]
