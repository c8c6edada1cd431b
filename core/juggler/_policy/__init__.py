"""Pure routing policy, each with an injected clock and no I/O: circuit breakers, retries and
the retry budget, the response cache, and the health figures."""
