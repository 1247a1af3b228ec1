"""Customers: who is billed and texted."""
