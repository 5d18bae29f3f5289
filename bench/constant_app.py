"""The baseline for bench/http_load.py: a FastAPI app whose proposal endpoint reads the request
body and returns a constant JSON verdict — no validation, no engine, no database.

Served by bench/http_load.py exactly like the service (same uvicorn options, same workers), so
the ratio between the two is what the service's own work costs.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

app = FastAPI()

# A small fixed body: the framework's cost of answering, not the size of a real verdict.
CONSTANT = b'{"verdict":"pass","findings":[],"engine":"constant"}'


@app.post("/v1/checks/proposal")
async def proposal(request: Request) -> Response:
    await request.body()
    return Response(CONSTANT, media_type="application/json")
