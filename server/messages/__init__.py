"""Text messages: the outbox (a text decided in the transaction of what caused it), the worker
that sends it through an `sms.sender.Sender`, the webhooks Twilio calls, and the office's view."""
