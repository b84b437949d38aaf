"""Run the API under uvicorn: ``run_server(settings, host, port, workers)``.

The artifact is verified once here (checksums), before any worker starts, so a bad artifact is
refused with a clear message instead of crash-looping workers. Workers are separate processes
that build the app through :func:`maas.app.factory` from the ``MAAS_*`` environment this
function sets; each maps the same artifact read-only, so the OS shares its pages between them.
With several workers, Prometheus metrics are aggregated through a multiprocess directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from maas.logging import configure_logging
from maas.settings import Settings


def run_server(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted. Raises :class:`routing.errors.ArtifactError` for a bad artifact."""
    import uvicorn

    from routing.graph import Graph

    if settings.graph is not None and settings.verify_graph:
        Graph.load(settings.graph, verify=True)
        settings = settings.model_copy(update={"verify_graph": False})  # verified once, for every worker
    configure_logging(settings.log_level, json_lines=settings.log_json)
    os.environ.update(settings.to_env())

    mp_dir: str | None = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        mp_dir = tempfile.mkdtemp(prefix="maas-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = mp_dir
    try:
        uvicorn.run(
            "maas.app:factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # uvicorn's access log holds raw query strings; the app logs its own
            log_config=None,
            server_header=False,
            proxy_headers=True,
            timeout_graceful_shutdown=10,
        )
    finally:
        if mp_dir is not None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(mp_dir, ignore_errors=True)
