"""The payment trail: one ordered record per job of everything that happened to it and its money."""
