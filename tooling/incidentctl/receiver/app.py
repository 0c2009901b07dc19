"""`incidentctl intake serve`: POST /hooks/<source>, GET /healthz, on Starlette and uvicorn.

A delivery is answered once it is written and committed (a crash after the answer loses
nothing), and quickly: the write is one incident file and one commit. uvicorn stops on
SIGTERM after the requests in flight are answered.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from incidentctl.core.model import AlertSource
from incidentctl.intake.payloads import MAX_PAYLOAD
from incidentctl.receiver.auth import Credentials
from incidentctl.receiver.deliveries import Deliveries

SOURCES = {s.value for s in AlertSource}


def application(deliveries: Deliveries, credentials: Credentials) -> Starlette:
    def refuse(source: str, status: int, error: str) -> JSONResponse:
        deliveries.log(json.dumps({"source": source, "status": status, "error": error}))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    async def hook(request: Request) -> JSONResponse:
        source = request.path_params["source"]
        if source not in SOURCES:
            return refuse(source, 404, f"unknown source {source!r}: one of {sorted(SOURCES)}")
        token = credentials.token_refusal(source, request.headers.get("authorization", ""))
        if token is not None:  # refused before its body is read
            return refuse(source, 401, token)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_PAYLOAD:
            return refuse(source, 413, f"payload over {MAX_PAYLOAD:,} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PAYLOAD:
                return refuse(source, 413, f"payload over {MAX_PAYLOAD:,} bytes")
        raw = bytes(body)
        refusal = credentials.refusal(source, request.headers, raw, deliveries.clock())
        if refusal is not None:
            return refuse(source, 401, refusal)
        answer = await run_in_threadpool(deliveries.deliver, source, raw)
        return JSONResponse(answer.body, status_code=answer.status)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse(deliveries.health())

    routes = [
        Route("/hooks/{source}", hook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def serve(
    deliveries: Deliveries,
    credentials: Credentials,
    *,
    host: str,
    port: int,
    announce: Callable[[str], None],
) -> None:
    """Bind, say where (port 0: a free one), serve until SIGTERM or SIGINT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # connections queue from here on, so announcing the port is no race
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        application(deliveries, credentials),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=60,
    )
    server = uvicorn.Server(config)
    deliveries.start_pushing()
    announce(f"listening on http://{host}:{bound} (POST /hooks/<source>, GET /healthz)")
    try:
        server.run(sockets=[sock])
    finally:
        deliveries.stop()
