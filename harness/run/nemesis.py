"""The nemesis: carries out a fault schedule while the workload runs.

One thread does every apply, heal and hold-release, in order. That keeps the fakes'
rule lists free of read-modify-write races, and makes the history of faults a plain
sequence. Event triggers work through the fakes' ``hold`` rules: the matching request
is parked at its phase, the fault is applied, then the request is let go. A trigger
that never fires is reported as such (its fault never ran), never silently dropped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from fracas.harness.faults.base import Fault
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.http import add_rule, get_rules, held_requests, release_held, remove_rule
from fracas.harness.kit.timescale import scaled
from fracas.harness.model.history import FaultHandle, History
from fracas.harness.run.client import ClientContext, RunClient
from fracas.harness.run.schedule import RequestMatch, Schedule, ScheduledFault

TRIGGER_PREFIX = "fracas-trigger-"
POLL_SECONDS = 0.005
#: How often the fakes whose triggers have all fired are read for a parked request.
SWEEP_SECONDS = 0.25
#: How often a fault that lies in wait and has not acted is asked whether it has.
FIRED_SECONDS = 0.1


@dataclass
class _Entry:
    index: int
    spec: ScheduledFault
    fault: Fault
    handle: FaultHandle | None = None
    applied_at: float | None = None
    healed: bool = False
    error: str | None = None
    #: An HTTP rule due while its fake was down: applied once the fake is back.
    deferred: bool = False
    #: When a fault that lies in wait acted (its ``for`` counts from then), and when
    #: to ask it next.
    fired_at: float | None = None
    next_ask: float = 0.0

    @property
    def holding(self) -> bool:
        """Applied and not healed, and not a fault that lies in wait and has not acted:
        that one holds no order back yet (its message has not come), as an HTTP rule in
        wait. It keeps the workload open as an event trigger does (``pending``)."""
        if self.handle is None or self.healed:
            return False
        return not self.fault.lies_in_wait or self.fired_at is not None

    @property
    def start_rule(self) -> str:
        return f"{TRIGGER_PREFIX}{self.index}-start"

    @property
    def heal_rule(self) -> str:
        return f"{TRIGGER_PREFIX}{self.index}-heal"


#: Families whose faults hold no order back by themselves (``Nemesis.blocking``).
UNBLOCKING = frozenset({"http", "client"})


@dataclass
class NemesisReport:
    """What happened to each scheduled fault, for the run's report."""

    applied: list[int] = field(default_factory=list)
    never_triggered: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)


def _entry_fault(index: int, spec: ScheduledFault) -> Fault:
    """Each entry names its own pieces (toxics, rules), so two entries with the same
    fault overlap by stacking, as scheduled, instead of colliding. An id the user gave
    is kept: reusing one on purpose still collides loudly."""
    data = dict(spec.fault)
    if not data.get("id"):
        data["id"] = f"fracas-s{index}-{data.get('kind')}-{data.get('target')}"
    return Fault.from_json(data)


class Nemesis:
    def __init__(
        self,
        schedule: Schedule,
        ctx: FaultContext,
        history: History,
        admin_urls: dict[str, str],
        client: RunClient | None = None,
    ) -> None:
        self.schedule = schedule
        #: Client faults send their inputs through the run's client (faults/client.py).
        self.client = client
        #: When (time.monotonic()) a fault that held orders back last healed: stillness
        #: counts from then, as the settle phase's counts from the heal of them all.
        self.unblocked_at: float | None = None
        self.ctx: FaultContext = ctx if client is None else ClientContext(ctx, client)
        self.history = history
        self.admin_urls = admin_urls
        self._entries = [
            _Entry(i, spec, _entry_fault(i, spec)) for i, spec in enumerate(schedule.faults)
        ]
        #: Every fake a trigger of ours is on (``_serve_holds`` sweeps them).
        self._trigger_services = frozenset(self._trigger_rules())
        if client is not None:
            client.entries.update({e.fault.id: e.index for e in self._entries})
            for e in self._entries:
                client.expect(e.fault)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._next_sweep = 0.0
        self._http = httpx.Client(timeout=scaled(5.0), trust_env=False)  # holds: slow under load
        self.report = NemesisReport()

    # -- control ---------------------------------------------------------------------
    def start(self) -> None:
        """Install the hold rules for event triggers, then run the schedule."""
        self._install_triggers()
        self._t0 = time.monotonic()
        for entry in self._entries:  # "at 0" means in place before the first order
            if entry.spec.at is not None and entry.spec.at <= 0:
                self._apply(entry)
        self._thread = threading.Thread(target=self._run, name="fracas-nemesis", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> bool:
        """True while a scheduled fault has yet to start, or to heal by its own trigger
        (a fault that lies in wait: ``for`` after it acted). A fault with no heal
        trigger lasts until ``finish`` and does not count."""
        return any(
            e.error is None
            and not e.healed
            and (e.applied_at is None or e.spec.duration is not None or e.spec.until is not None)
            for e in self._entries
        )

    def finish(self) -> NemesisReport:
        """Stop the schedule, heal whatever is active, release anything still held."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        # A trigger whose request is parked now has fired: apply it before the release
        # below lets that request go on. An order reported terminal may still be at work
        # (one saved "failed" before it undoes its steps), so the workload phase can end
        # between the park and the loop's next look; released unseen, the crash it
        # stands for never happened and the run passed (fail-first, 1 run in 3).
        try:
            self._serve_holds()
        except httpx.HTTPError:
            pass
        for entry in self._entries:
            if entry.handle is not None and not entry.healed:
                self._heal(entry, reason="end of workload")
            elif entry.applied_at is None and entry.error is None:
                self.report.never_triggered.append(entry.index)
                self.history.note(
                    "fault-never-triggered",
                    index=entry.index,
                    fault=dict(entry.spec.fault),
                    trigger=entry.spec.when.describe() if entry.spec.when else None,
                )
        self._remove_triggers()
        for service in self.admin_urls:
            try:
                self._release_all(service)
            except (httpx.HTTPError, ValueError):
                continue  # a fake that is down holds nothing
        if self.client is not None:
            self.client.join()  # every input sent, and its effects landed, before checking
        self._http.close()
        return self.report

    @property
    def active(self) -> bool:
        """True while any applied fault has not healed yet."""
        return any(e.handle is not None and not e.healed for e in self._entries)

    @property
    def blocking(self) -> bool:
        """True while an applied fault that can hold an order back by itself has not
        healed: a network toxic, a process down or paused. An HTTP rule lying in wait is
        not one: it acts only on a request that comes, and a request that comes, or is
        held, is movement. Counted as active, a rule on a later step of an order that a
        defect had stopped held the workload phase open for its whole 120 s. Nor is a
        client input: it waits for its order to move (to await review, to finish), and
        one waiting on a stuck order held the phase open for 120 s likewise."""
        return any(e.holding and e.fault.family not in UNBLOCKING for e in self._entries)

    @property
    def lasting(self) -> bool:
        """True while a fault with no heal trigger is active: it lasts the workload."""
        return any(
            e.handle is not None
            and not e.healed
            and e.spec.duration is None
            and e.spec.until is None
            for e in self._entries
        )

    @property
    def waiting_on_time(self) -> bool:
        """True while a fault is due at a time that has not come yet (it will fire)."""
        return any(
            e.error is None and e.applied_at is None and e.spec.at is not None
            for e in self._entries
        )

    # -- the loop --------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic() - self._t0
            for entry in self._entries:
                if entry.error is not None or entry.healed:
                    continue
                spec = entry.spec
                if entry.deferred:
                    if self._alive(entry.fault.target):
                        self._apply(entry)
                    continue
                if entry.applied_at is None:
                    if spec.at is not None and now >= spec.at:
                        self._apply(entry)
                elif spec.duration is not None and now >= self._since(entry, now) + spec.duration:
                    self._heal(entry, reason=f"after {spec.duration:g}s")
            self._serve_holds()
            self._stop.wait(POLL_SECONDS)

    def _since(self, entry: _Entry, now: float) -> float:
        """When ``entry``'s ``for`` started: its apply, or for a fault that lies in wait
        the moment it acted (asked every ``FIRED_SECONDS``; until it acts, never)."""
        assert entry.applied_at is not None
        if entry.fired_at is not None:
            return entry.fired_at
        if not entry.fault.lies_in_wait:
            return entry.applied_at
        if now >= entry.next_ask:
            entry.next_ask = now + FIRED_SECONDS
            try:
                acted = entry.fault.fired(self.ctx) > 0
            except Exception:  # noqa: BLE001 - the proxy busy or restarting: ask again
                acted = False
            if acted:
                entry.fired_at = now
                self.history.note("fault-acted", index=entry.index)
                return now
        return float("inf")

    def _serve_holds(self) -> None:
        services = {
            e.spec.when.service for e in self._entries if e.spec.when and e.applied_at is None
        }
        services |= {e.spec.until.service for e in self._entries if e.spec.until and not e.healed}
        # Also, now and then, every other fake with a trigger of ours: a request a trigger
        # parked whose release failed (the fake busy with what a pause held back) stayed
        # parked to the end of the workload once no trigger waited there, and its ended
        # order never went still: the phase ran out its 120 s (1 replay in 4 of one
        # example). Not every round: at 200 rounds a second, reading every such fake
        # loaded a busy machine enough to fail timing-sensitive tests.
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            services |= self._trigger_services
        for service in services:
            try:
                items = self._held(service)
            except (httpx.HTTPError, ValueError):
                continue  # the fake may be down (a process fault); try again next round
            for item in items:
                self._on_held(service, item)

    def _on_held(self, service: str, item: dict[str, Any]) -> None:
        rule_id = str(item.get("rule_id", ""))
        if not rule_id.startswith(TRIGGER_PREFIX):
            return  # a hold the user asked for; not ours to release
        for entry in self._entries:
            if rule_id == entry.start_rule and entry.applied_at is None:
                self._apply(entry, held=item)
            elif rule_id == entry.heal_rule and entry.handle is not None and not entry.healed:
                self._heal(
                    entry,
                    reason=f"trigger {entry.spec.until.describe() if entry.spec.until else ''}",
                )
        try:
            release_held(self._http, self.admin_urls[service], item["id"])
        except httpx.HTTPError:
            pass

    # -- apply and heal --------------------------------------------------------------
    def _alive(self, target: str) -> bool:
        proc = self.ctx.process(target)
        return proc is None or proc.alive

    def _restore(self, service: str) -> None:
        """A fake that was killed or restarted lost its rules (they live in memory): put
        back the trigger rules still waiting and the HTTP faults still active on it."""
        if service not in self.admin_urls:
            return
        url = self.admin_urls[service]
        rules, wrapped = get_rules(url)
        present = {str(r.get("id")) for r in rules}
        for entry in self._entries:
            pairs: list[tuple[RequestMatch | None, str, bool]] = [
                (entry.spec.when, entry.start_rule, entry.applied_at is None),
                (entry.spec.until, entry.heal_rule, entry.handle is not None and not entry.healed),
            ]
            for match, rule_id, waiting in pairs:
                if match is not None and match.service == service and waiting:
                    if entry.error is None and rule_id not in present:
                        add_rule(url, match.hold_rule(rule_id), rules, wrapped)
            active = entry.handle is not None and not entry.healed
            if active and entry.fault.family == "http" and entry.fault.target == service:
                entry.fault.apply(self.ctx)
            elif entry.deferred and entry.fault.target == service:
                self._apply(entry)

    def _apply(self, entry: _Entry, held: dict[str, Any] | None = None) -> None:
        extra: dict[str, Any] = {"index": entry.index}
        if held is not None:
            extra["trigger"] = {k: held.get(k) for k in ("method", "path", "order_id", "phase")}
            extra["trigger_service"] = entry.spec.when.service if entry.spec.when else None
        if entry.fault.family == "http" and not self._alive(entry.fault.target):
            entry.deferred = True  # its fake is down: apply when it is back
            return
        entry.deferred = False
        try:
            entry.fault.apply(self.ctx)
            if entry.fault.kind == "restart":
                self._restore(entry.fault.target)
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            entry.error = f"apply failed: {type(exc).__name__}: {exc}"
            self.report.errors[entry.index] = entry.error
            self.history.note("fault-apply-failed", index=entry.index, error=entry.error)
            return
        entry.handle = self.history.fault_applied(
            entry.fault.to_json(), entry.fault.target, **extra
        )
        entry.applied_at = time.monotonic() - self._t0
        self.report.applied.append(entry.index)
        if entry.spec.duration == 0:
            self._heal(entry, reason="at once")

    def _heal(self, entry: _Entry, reason: str) -> None:
        try:
            entry.fault.heal(self.ctx)
            if entry.fault.family == "process":
                self._restore(entry.fault.target)
        except Exception as exc:  # noqa: BLE001
            entry.error = f"heal failed: {type(exc).__name__}: {exc}"
            self.report.errors[entry.index] = entry.error
        if entry.handle is not None and not entry.healed:
            entry.handle.healed(reason=reason)
            if entry.fault.family not in UNBLOCKING:
                self.unblocked_at = time.monotonic()
        entry.healed = True

    # -- trigger rules ---------------------------------------------------------------
    def _trigger_rules(self) -> dict[str, list[dict[str, Any]]]:
        rules: dict[str, list[dict[str, Any]]] = {}
        for entry in self._entries:
            pairs: list[tuple[RequestMatch | None, str]] = [
                (entry.spec.when, entry.start_rule),
                (entry.spec.until, entry.heal_rule),
            ]
            for match, rule_id in pairs:
                if match is not None:
                    rules.setdefault(match.service, []).append(match.hold_rule(rule_id))
        return rules

    def _install_triggers(self) -> None:
        """One rule at a time, so the rules already on a fake keep their counters."""
        for service, new in self._trigger_rules().items():
            url = self.admin_urls[service]
            rules, wrapped = get_rules(url)
            for rule in rules:  # left by a run that did not finish
                if str(rule.get("id", "")).startswith(TRIGGER_PREFIX):
                    remove_rule(url, str(rule["id"]), rules, wrapped)
            for rule in new:
                add_rule(url, rule, rules, wrapped)

    def _remove_triggers(self) -> None:
        for service, ours in self._trigger_rules().items():
            url = self.admin_urls[service]
            try:
                rules, wrapped = get_rules(url)
                present = {str(r.get("id")) for r in rules}
                for rule in ours:
                    if rule["id"] in present:
                        remove_rule(url, rule["id"], rules, wrapped)
            except httpx.HTTPError:
                continue

    def _held(self, service: str) -> list[dict[str, Any]]:
        """What a fake's ``hold`` rules are parking now (``GET /_fracas/held``)."""
        return held_requests(self._http, self.admin_urls[service])

    def _release_all(self, service: str) -> None:
        """Let every parked request go: a request still held is a fault not yet healed."""
        for item in self._held(service):
            release_held(self._http, self.admin_urls[service], item["id"])
