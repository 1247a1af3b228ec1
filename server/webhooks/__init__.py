"""Webhooks (contract §11): endpoints, their secrets, the delivery outbox written in the event's
own transaction, and the worker that sends it, signed as Standard Webhooks 1.0 says."""
