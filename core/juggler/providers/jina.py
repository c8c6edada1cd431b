"""The jina wire format (being written)."""
