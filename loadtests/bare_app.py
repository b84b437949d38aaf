"""The yardstick of DESIGN section 5: a bare async FastAPI endpoint returning the same bytes as a
cached /v1/plan answer (read from the file named by ``MAAS_BARE_BODY``), no middleware, no cache.

    MAAS_BARE_BODY=body.json uvicorn loadtests.bare_app:app --port 8001
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

BODY = Path(os.environ["MAAS_BARE_BODY"]).read_bytes() if os.environ.get("MAAS_BARE_BODY") else b"{}"

app = FastAPI()


@app.get("/bare")
async def bare() -> Response:
    return Response(BODY, media_type="application/json")
