"""The ``r5`` engine: R5 through r5py, optional (``pip install 'maas-planner[r5]'``).

Importing this package imports neither r5py nor Java: :func:`availability` says what
is missing without starting anything, and :func:`make_planner` (the factory the engine
registry calls) imports r5py, configured from the project's settings, only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing.graph import Graph
    from routing.r5.engine import R5Planner

__all__ = ["availability", "make_planner"]


def availability(classpath: str | None = None, *, max_memory: str | None = None,
                 java_home: str | None = None) -> str | None:
    """None when the r5 engine can run here, else one message of what is missing and how to get it."""
    from routing.r5.engine import availability as _availability

    return _availability(classpath, max_memory=max_memory, java_home=java_home)


def make_planner(
    graph: Graph,
    *,
    classpath: str | None = None,
    max_memory: str | None = None,
    java_home: str | None = None,
    **options: Any,
) -> R5Planner:
    """An :class:`~routing.r5.engine.R5Planner` for ``graph``.

    Unset ``classpath``/``max_memory``/``java_home`` come from ``MAAS_R5_CLASSPATH``,
    ``MAAS_R5_MAX_MEMORY`` and ``MAAS_R5_JAVA_HOME``; ``options`` are the planner's
    keywords (``gtfs``, ``osm``, ``walk_mps``, ``bike_mps``, ``max_transfers``).
    Raises :class:`~routing.errors.EngineUnavailable` naming what is missing.
    """
    from routing.r5.engine import R5Planner

    return R5Planner(graph, classpath=classpath, max_memory=max_memory, java_home=java_home, **options)
