"""The cohere wire format (being written)."""
