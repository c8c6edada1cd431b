"""The google wire format (being written)."""
