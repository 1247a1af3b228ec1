"""Invoices: payment requests on an order, their hosted page, and reminders."""
