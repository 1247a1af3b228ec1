"""Payments and refunds: money captured against an order, and money given back."""
