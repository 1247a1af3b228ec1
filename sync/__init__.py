"""Sync protocol and the technician device."""
