"""Everything Twilio: sending through the real `twilio` client, the message outbox and its
retry policy, webhook signatures, opt-outs, and the Twilio-compatible sandbox."""
