"""FastAPI gateway, cache, settings, CLI and widget of the MaaS trip planner."""

__version__ = "0.1.0"
