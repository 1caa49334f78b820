"""``python -m fracas.orchestrator``: configure, then serve the API until SIGTERM."""

from __future__ import annotations

import errno
import logging
import socket
import sys

import uvicorn

from fracas.orchestrator.api import build_app
from fracas.orchestrator.config import load_config
from fracas.orchestrator.storage import describe, is_storage_error


def _split(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def _check_port(host: str, port: int) -> None:
    """A port another program holds is said in one line before uvicorn says it with a
    traceback-shaped log (uvicorn still binds it: this check is for the message)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            whose = " (another program is listening there)" if exc.errno == errno.EADDRINUSE else ""
            raise SystemExit(
                f"orchestrator: cannot listen on FRACAS_LISTEN {host}:{port}: {reason}{whose}"
            ) from None


def main(argv: list[str] | None = None) -> int:
    config = load_config(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        host, port = _split(config.listen)
    except ValueError:
        raise SystemExit(f"FRACAS_LISTEN must be host:port, got {config.listen!r}") from None
    _check_port(host, port)
    try:
        app = build_app(config)
    except Exception as exc:  # noqa: BLE001 - said in one line if it is the disk's fault
        if not is_storage_error(exc):
            raise
        raise SystemExit(describe(config.state_dir, exc)) from None
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
