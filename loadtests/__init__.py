"""Load tests of the HTTP API (locust scenarios, a headless runner)."""
