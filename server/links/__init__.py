"""Payment links: hosted collection of an amount on an order, paid on the customer's phone."""
