"""The voyage wire format (being written)."""
