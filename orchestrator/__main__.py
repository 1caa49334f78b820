"""``python -m fracas.orchestrator``: configure, then serve the API until SIGTERM."""

from __future__ import annotations

import logging
import sys

import uvicorn

from fracas.orchestrator.api import build_app
from fracas.orchestrator.config import load_config


def _split(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    config = load_config(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        host, port = _split(config.listen)
    except ValueError:
        raise SystemExit(f"FRACAS_LISTEN must be host:port, got {config.listen!r}") from None
    app = build_app(config)
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - non-Linux
        loop = "asyncio"
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop=loop,
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
