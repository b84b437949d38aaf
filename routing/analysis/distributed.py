"""Large matrices past one process: origin batches on Dask (``dask.distributed``).

The client sends each worker the artifact's *path*, never the graph: a worker maps the
artifact (``Graph.load``, read-only memory maps) once and keeps it, with the prepared
destinations (egress searches), for every batch that follows. The destinations travel
once per worker (``Client.scatter(broadcast=True)``); each task gets a batch of origins
and returns its ``[percentile, origin, destination]`` minutes. The batches are put back
in order, so the result equals :meth:`TravelTimeComputer.matrix` in one process.

Without a scheduler address a :class:`~distributed.LocalCluster` is started for the job
(one worker process per core, one thread each) and closed after it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.analysis.matrix import AnalysisOptions, Destinations, TravelTimeComputer, TravelTimeMatrix
from routing.analysis.points import Points
from routing.errors import EngineUnavailable

DEFAULT_BATCH = 50
_CACHE_SIZE = 4  # (graph, options) pairs and destination sets kept per worker

_lock = threading.Lock()
_computers: OrderedDict[tuple[str, AnalysisOptions], TravelTimeComputer] = OrderedDict()
_destinations: OrderedDict[tuple[str, AnalysisOptions, str], Destinations] = OrderedDict()


def points_token(points: Points) -> str:
    """A content hash of a point set (ids and coordinates), to key worker caches."""
    h = hashlib.sha256()
    h.update("\0".join(points.ids).encode())
    h.update(np.ascontiguousarray(points.lat, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(points.lon, dtype=np.float64).tobytes())
    return h.hexdigest()


def _computer(graph_path: str, options: AnalysisOptions) -> TravelTimeComputer:
    from routing.graph import Graph

    key = (graph_path, options)
    with _lock:
        found = _computers.get(key)
        if found is not None:
            _computers.move_to_end(key)
            return found
    # load outside the lock (seconds for a big artifact); a race loads twice, harmlessly
    same_graph = next((c.graph for (p, _), c in _computers.items() if p == graph_path), None)
    computer = TravelTimeComputer(same_graph or Graph.load(graph_path), options)
    with _lock:
        _computers[key] = computer
        while len(_computers) > _CACHE_SIZE:
            _computers.popitem(last=False)
    return computer


def _prepared(computer: TravelTimeComputer, graph_path: str, points: Points, token: str) -> Destinations:
    key = (graph_path, computer.options, token)
    with _lock:
        found = _destinations.get(key)
        if found is not None:
            return found
    dests = computer.destinations(points)
    with _lock:
        _destinations[key] = dests
        while len(_destinations) > _CACHE_SIZE:
            _destinations.popitem(last=False)
    return dests


def run_batch(
    graph_path: str, options: AnalysisOptions, destinations: Points, token: str, origins: Points
) -> NDArray[np.int32]:
    """One task: minutes ``[percentile, origin, destination]`` for a batch of origins
    (the worker's cached graph and destinations; origins on the worker's threads)."""
    computer = _computer(graph_path, options)
    dests = _prepared(computer, graph_path, destinations, token)
    threads = int(os.environ.get("MAAS_ANALYSIS_THREADS", "1"))
    return computer.matrix(origins, dests, threads=threads).minutes


def dask_matrix(
    graph_path: str | Path,
    origins: Points,
    destinations: Points,
    options: AnalysisOptions,
    *,
    address: str | None = None,
    client: Any = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> TravelTimeMatrix:
    """The matrix computed on Dask: ``client`` if given, else a scheduler ``address``,
    else a LocalCluster started (and closed) for this call."""
    try:
        import distributed
    except ImportError:  # pragma: no cover - dask[distributed] is a core dependency
        raise EngineUnavailable("dask.distributed is not installed (pip install 'dask[distributed]')") from None
    dist: Any = distributed  # untyped package
    path = str(Path(graph_path).resolve())
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    cluster = None
    own_client = client is None
    try:
        if client is None:
            if address:
                client = dist.Client(address)
            else:
                cluster = dist.LocalCluster(
                    n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None
                )
                client = dist.Client(cluster)
    except OSError as e:
        raise EngineUnavailable(f"cannot reach the Dask scheduler {address or '(local)'}: {e}") from None
    try:
        token = points_token(destinations)
        [dest_future] = client.scatter([destinations], broadcast=True)
        starts = list(range(0, len(origins), batch_size))
        futures = {
            client.submit(
                run_batch, path, options, dest_future, token, origins.take(slice(s, s + batch_size)),
                pure=False,
            ): s
            for s in starts
        }  # fmt: skip
        out = np.empty((len(options.percentiles), len(origins), len(destinations)), np.int32)
        done = 0
        for fut in dist.as_completed(futures):
            s = futures[fut]
            part = fut.result()
            out[:, s : s + part.shape[1], :] = part
            done += part.shape[1]
            if progress:
                progress(done, len(origins))
        return TravelTimeMatrix(origins.ids, destinations.ids, options.percentiles, out)
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
