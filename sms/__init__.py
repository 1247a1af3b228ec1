"""The Twilio edge: a small sender interface with the real `twilio` client behind it, Twilio's
request signatures, the texts' wording, the opt-out keyword policy, and the Twilio-compatible
sandbox (an app of its own that the server may mount).

`sms` knows nothing of the server's store, trail or web layer; the server's `messages` domain
keeps the outbox and drives a `Sender`."""
