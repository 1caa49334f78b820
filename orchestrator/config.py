"""Configuration from the ``FRACAS_*`` environment, overridden by command-line flags.

The harness starts any orchestrator with environment variables only (contract §1), so
the environment is the primary source; flags exist for humans and benchmarks. A
profile supplies the defaults so tests can run the same state machine with budgets
measured in milliseconds instead of minutes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

SERVICES: tuple[str, ...] = ("crm", "payment", "inventory", "shipping", "notify")


@dataclass(frozen=True)
class Config:
    urls: dict[str, str] = field(default_factory=dict)
    listen: str = "127.0.0.1:8080"
    state_dir: Path = Path("orchestrator-state")
    profile: str = "default"
    # One HTTP attempt may take at most this long (connect + write + read).
    call_timeout: float = 2.0
    # A forward step gives up after this many attempts or this many seconds.
    retry_attempts: int = 8
    retry_budget: float = 30.0
    backoff_base: float = 0.1
    backoff_cap: float = 5.0
    # A compensation step (cancel, release, refund, notify) gets a longer budget,
    # because giving up there means a person has to clean up.
    compensation_attempts: int = 20
    compensation_budget: float = 120.0
    # The longest Retry-After we honour; a bigger one is clipped to this.
    retry_after_cap: float = 10.0
    review_timeout: float = 48 * 3600.0
    # How often awaiting-review orders are checked against their deadline.
    review_check_interval: float = 1.0
    max_in_flight: int = 2000
    max_connections: int = 64
    test_clock: bool = False
    # "fast" (fracas.orchestrator.http) or "httpx"; same semantics, the first is ~3x cheaper.
    http_client: str = "fast"
    seed: int | None = None
    log_transitions: bool = True
    # The event side (a hybrid saga, docs/choreography.md#hybrid): with a broker, the
    # saga's end is published as an event through an outbox and a participant sends the
    # notification; without one, the orchestrator notifies as it always did.
    events: bool = False
    broker_url: str | None = None
    # Planted defects, for fracas to find (only "events-no-outbox" exists).
    bugs: frozenset[str] = frozenset()

    def url(self, service: str) -> str:
        return self.urls[service]


PROFILES: dict[str, dict[str, object]] = {
    "default": {},
    "fast": {
        "call_timeout": 1.0,
        "retry_attempts": 50,
        # Both well above the longest outage a scenario injects plus a fake's restart on a loaded
        # machine (seen: 1.5 s down + 2.7 s to boot at load 8), so riding one out never
        # depends on how busy the machine is.
        "retry_budget": 10.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.25,
        "compensation_attempts": 80,
        "compensation_budget": 15.0,
        "retry_after_cap": 0.5,
        "review_check_interval": 0.05,
    },
}

# flag / env name suffix -> (field, parser)
_TUNABLES: dict[str, tuple[str, type]] = {
    "call-timeout": ("call_timeout", float),
    "retry-attempts": ("retry_attempts", int),
    "retry-budget": ("retry_budget", float),
    "backoff-base": ("backoff_base", float),
    "backoff-cap": ("backoff_cap", float),
    "compensation-attempts": ("compensation_attempts", int),
    "compensation-budget": ("compensation_budget", float),
    "retry-after-cap": ("retry_after_cap", float),
    "review-timeout": ("review_timeout", float),
    "review-check-interval": ("review_check_interval", float),
    "max-in-flight": ("max_in_flight", int),
    "max-connections": ("max_connections", int),
    "seed": ("seed", int),
}

_TRUE = {"1", "true", "yes", "on"}
#: "events-no-outbox": the end event is published after the commit, from memory, so a
#: crash between the two loses it (the hybrid's classic defect).
BUGS = ("events-no-outbox",)


def _env_name(flag: str) -> str:
    return "FRACAS_" + flag.replace("-", "_").upper()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fracas.orchestrator",
        description="The bundled fracas saga orchestrator. Every flag has a FRACAS_* "
        "environment twin (e.g. --retry-budget / FRACAS_RETRY_BUDGET); flags win.",
    )
    for service in SERVICES:
        p.add_argument(f"--{service}-url", default=None, help=f"base URL of {service}")
    p.add_argument("--listen", default=None, help="host:port of the HTTP API")
    p.add_argument("--state-dir", default=None, help="directory for the SQLite state")
    p.add_argument("--profile", choices=sorted(PROFILES), default=None)
    p.add_argument(
        "--test-clock",
        action="store_true",
        default=None,
        help="enable POST /_admin/clock/advance (review timeouts in milliseconds)",
    )
    p.add_argument("--no-transition-log", action="store_true", default=None)
    p.add_argument("--http-client", choices=("fast", "httpx"), default=None)
    p.add_argument(
        "--events",
        action="store_true",
        default=None,
        help="publish the saga's end (order.completed / order.failed) to the broker at "
        "FRACAS_BROKER_URL through an outbox, and leave the notification to a participant",
    )
    p.add_argument("--broker-url", default=None, help="nats:// URL of the broker (--events)")
    p.add_argument("--bug", action="append", default=None, choices=BUGS,
                   help="plant a defect (repeatable; FRACAS_BUG, comma-separated)")
    for flag, (_, kind) in _TUNABLES.items():
        p.add_argument(f"--{flag}", type=kind, default=None)
    return p


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Profile defaults < environment < flags."""
    env = os.environ if env is None else env
    args = build_parser().parse_args(argv)

    profile = args.profile or env.get("FRACAS_PROFILE", "default")
    if profile not in PROFILES:
        raise SystemExit(f"unknown profile {profile!r}; expected one of {sorted(PROFILES)}")
    values: dict[str, object] = {"profile": profile, **PROFILES[profile]}

    urls: dict[str, str] = {}
    for service in SERVICES:
        url = getattr(args, f"{service}_url") or env.get(f"FRACAS_{service.upper()}_URL")
        if url:
            urls[service] = url.rstrip("/")
    missing = [s for s in SERVICES if s not in urls]
    if missing:
        raise SystemExit(
            "missing service URLs: "
            + ", ".join(f"FRACAS_{s.upper()}_URL / --{s}-url" for s in missing)
        )
    values["urls"] = urls
    values["listen"] = args.listen or env.get("FRACAS_LISTEN", Config.listen)
    values["state_dir"] = Path(args.state_dir or env.get("FRACAS_STATE_DIR", str(Config.state_dir)))
    if args.test_clock is not None:
        values["test_clock"] = True
    else:
        values["test_clock"] = env.get("FRACAS_TEST_CLOCK", "").lower() in _TRUE
    if args.no_transition_log:
        values["log_transitions"] = False
    elif "FRACAS_TRANSITION_LOG" in env:
        values["log_transitions"] = env["FRACAS_TRANSITION_LOG"].lower() in _TRUE

    client = args.http_client or env.get("FRACAS_HTTP_CLIENT", "fast")
    if client not in ("fast", "httpx"):
        raise SystemExit("FRACAS_HTTP_CLIENT must be fast or httpx")
    values["http_client"] = client

    values.update(_event_side(args, env))

    for flag, (name, kind) in _TUNABLES.items():
        flag_value = getattr(args, flag.replace("-", "_"))
        if flag_value is not None:
            values[name] = flag_value
        elif _env_name(flag) in env:
            try:
                values[name] = kind(env[_env_name(flag)])
            except ValueError:
                raise SystemExit(f"{_env_name(flag)} must be a {kind.__name__}") from None

    known = {f.name for f in fields(Config)}
    return replace(Config(), **{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


def _event_side(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, object]:
    """``--events`` / FRACAS_EVENTS turns the event side on; it then needs a broker."""
    on = args.events if args.events is not None else env.get("FRACAS_EVENTS", "").lower() in _TRUE
    bugs = args.bug if args.bug is not None else [
        b.strip() for b in env.get("FRACAS_BUG", "").split(",") if b.strip()
    ]
    unknown = sorted(set(bugs) - set(BUGS))
    if unknown:
        raise SystemExit(f"unknown bug(s) {unknown}; expected some of {list(BUGS)}")
    url = args.broker_url or env.get("FRACAS_BROKER_URL") or None
    if on and not url:
        raise SystemExit("--events needs a broker: FRACAS_BROKER_URL / --broker-url")
    return {
        "events": bool(on),
        "broker_url": url if on else None,
        "bugs": frozenset(bugs),
    }
