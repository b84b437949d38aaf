"""Engine registry: the built-in RAPTOR engine is the default; ``r5`` loads lazily."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routing.errors import EngineUnavailable
from routing.graph import Graph
from routing.plan import JourneyPlanner

Factory = Callable[..., JourneyPlanner]
_FACTORIES: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    _FACTORIES[name] = factory


def _raptor(graph: Graph, **options: Any) -> JourneyPlanner:
    from routing.raptor_planner import EngineOptions, RaptorPlanner

    return RaptorPlanner(graph, EngineOptions(**options))


def _r5(graph: Graph, **options: Any) -> JourneyPlanner:
    from routing.r5 import make_planner  # r5py and Java load only when this engine is asked for

    return make_planner(graph, **options)


register("raptor", _raptor)
register("r5", _r5)


def names() -> list[str]:
    return sorted(_FACTORIES)


def get_planner(graph: Graph, name: str = "raptor", **options: Any) -> JourneyPlanner:
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise EngineUnavailable(f"unknown engine {name!r}; available: {', '.join(names())}") from None
    return factory(graph, **options)
