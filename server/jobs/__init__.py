"""Jobs: the work at an address, its technician, its status, and its one payment trail."""
