"""The HTTP API: one router module per resource, models, problem details, dependencies."""
