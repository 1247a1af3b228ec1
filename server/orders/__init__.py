"""Orders: line items with kinds, derived totals, and the state every payment is taken against."""
