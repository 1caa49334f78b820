"""Back to a clean world after any mix of faults, including ones nobody recorded."""

from __future__ import annotations

from fracas.harness.faults.context import FaultContext, FaultError
from fracas.harness.faults.http import clear_rules
from fracas.harness.faults.process import ensure_running
from fracas.harness.kit.toxiclient import ToxiproxyError


def heal_all(ctx: FaultContext) -> list[str]:
    """Restart killed processes, resume paused ones, drop every fake rule, every toxic,
    and enable every proxy of every target; returns what it did, one line per action.

    Processes come first so the fakes' admin APIs answer when their rules are cleared.
    Every target is attempted even when one fails; the failures are raised together.
    """
    done: list[str] = []
    errors: list[str] = []
    targets = list(ctx.targets())
    for target in targets:
        proc = ctx.process(target)
        if proc is None or proc.starts == 0:
            continue  # never started by anyone: not ours to start
        try:
            was = "down" if not proc.alive else "paused" if proc.paused else None
            ensure_running(target, proc, ctx)
            if was:
                done.append(f"{target}: {'restarted' if was == 'down' else 'resumed'}")
        except Exception as exc:  # noqa: BLE001 - keep healing the rest
            errors.append(f"{target}: process: {exc}")
    for target in targets:
        url = ctx.admin_url(target)
        if url is None:
            continue
        try:
            clear_rules(url)
            done.append(f"{target}: fake rules cleared")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{target}: rules at {url}: {exc}")
    client = ctx.toxiproxy
    if client is not None:
        for target in targets:
            proxy = ctx.proxy_name(target)
            if proxy is None:
                continue
            try:
                removed = client.clear_toxics(proxy)
                client.enable(proxy)
                done.append(f"{target}: proxy {proxy} enabled, toxics removed: {removed}")
            except ToxiproxyError as exc:
                if exc.status != 404:
                    errors.append(f"{target}: proxy {proxy}: {exc}")
    if errors:
        raise FaultError("heal_all could not heal everything:\n  " + "\n  ".join(errors))
    return done
