"""The server's side of device sync (contract §7): push applies mutations exactly once, pull
pages through the change log within the technician's scope."""
