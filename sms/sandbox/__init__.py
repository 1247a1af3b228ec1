"""A Twilio-compatible sandbox: the Messages API the real `twilio` client talks to over HTTP,
signed status callbacks and inbound messages, Twilio's magic test numbers, opt-outs, faults on
request for tests, and `/sandbox/phone/<number>`, a page that shows a customer's texts."""
