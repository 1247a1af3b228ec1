"""Everything Twilio."""
