"""What every route shares: problem+json, strict bodies, bearer auth, idempotency, pagination."""
