"""``python -m fracas.harness.toxiproxy``: the embedded Toxiproxy-compatible server.

One process, one uvloop event loop for the API and every proxy. Stops cleanly on
SIGTERM/SIGINT (listeners and connections closed) so a ManagedProcess ``stop`` is quick.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import os
import resource
import signal
import sys
from pathlib import Path

from fracas.fakes.contract import EXIT_PORT_TAKEN
from fracas.harness.toxiproxy import spin
from fracas.harness.toxiproxy.api import App, HttpServer
from fracas.harness.toxiproxy.server import Server

log = logging.getLogger("fracas.toxiproxy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fracas.harness.toxiproxy", description=__doc__)
    parser.add_argument(
        "--host",
        "-host",
        default="127.0.0.1",
        help="API address (default 127.0.0.1: loopback only)",
    )
    parser.add_argument("--port", "-port", type=int, default=8474)
    parser.add_argument(
        "--spin-us",
        type=float,
        default=50.0,
        help="keep polling this long after traffic, as Go does (0: off; see spin.py)",
    )
    parser.add_argument(
        "--seed",
        "-seed",
        type=int,
        default=None,
        help="make jitter, slicing and toxicity rolls repeat",
    )
    parser.add_argument(
        "--config",
        "-config",
        type=Path,
        default=None,
        help="JSON file in the /populate format, loaded at start",
    )
    parser.add_argument(
        "--no-metrics",
        dest="metrics",
        action="store_false",
        help="do not serve GET /metrics (served by default)",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


async def serve(args: argparse.Namespace) -> None:
    spin.configure(args.spin_us)
    server = Server(seed=args.seed, metrics=args.metrics)
    app = App(server)
    if args.config is not None:
        try:
            body = args.config.read_bytes()
            response = await app.handle("POST", "/populate", {}, body)
            result = json.loads(response.body)
            if response.status != 201:
                log.error("config %s: %s", args.config, result.get("error"))
            else:
                log.info("populated %d proxies from %s", len(result["proxies"]), args.config)
        except OSError as exc:
            log.error("config %s: %s", args.config, exc)
    http = HttpServer(app)
    try:
        await http.start(args.host, args.port)
    except OSError as exc:
        # One line the harness can show, not a traceback; a taken port has the fakes' code.
        reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
        taken = exc.errno == errno.EADDRINUSE
        whose = " (another program is listening there)" if taken else ""
        print(f"toxiproxy: cannot listen on {args.host}:{args.port}: {reason}{whose}",
              file=sys.stderr, flush=True)  # fmt: skip
        raise SystemExit(EXIT_PORT_TAKEN if taken else 1) from None
    log.info("fracas toxiproxy API on %s:%d (seed %s)", args.host, args.port, args.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    http.close()
    server.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    _raise_fd_limit()
    # A development aid for bench/proxy.py: profile the whole loop, dump at exit.
    profile_path = os.environ.get("FRACAS_TOXIPROXY_PROFILE")
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(serve(args))
    else:
        uvloop.run(serve(args))
    if profiler is not None and profile_path:
        profiler.disable()
        profiler.dump_stats(profile_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
