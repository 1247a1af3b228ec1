"""Technicians and their enrolled devices."""
