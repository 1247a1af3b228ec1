"""Text messages as the office sees them, and the webhooks Twilio calls."""
