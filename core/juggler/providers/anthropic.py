"""The anthropic wire format (being written)."""
