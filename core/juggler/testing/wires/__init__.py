"""The simulator's wire formats: one module per provider wire, named like ``juggler.providers``."""
