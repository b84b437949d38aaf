"""Normalized model -> graph artifact -> journey planners. No HTTP, no Redis.

The public boundary is :class:`routing.plan.JourneyPlanner`; engines are looked up by
name in :mod:`routing.engines`.
"""
