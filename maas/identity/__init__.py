"""API keys (scoped, stored as SHA-256 of high-entropy tokens) and per-key rate limits."""
