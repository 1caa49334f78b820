"""The whole system under test on one machine: a fault-proxy server, the five fakes
each behind its proxy, and the orchestrator pointed at the proxies.

Start-up is parallel where it can be: every process is spawned first, then each is
waited for. One run directory holds every process's state and log, so a failing run
can be read afterwards. ``reset`` puts the world back for the next Hypothesis example
without restarting the fakes or the proxy server.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fracas.harness.adapters import (
    OrchestratorAdapter,
    OrchestratorEnv,
    PortTaken,
    adapter_from_spec,
    resolve_spec,
)
from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.backends import FaultBackend, UrlBackend, make_backend
from fracas.harness.faults.context import SimpleFaultContext
from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.kit.procs import ProcessHandle
from fracas.harness.kit.timescale import scaled
from fracas.harness.kit.toxiclient import ToxiClient
from fracas.harness.run.brokerside import BrokerSide, start_broker_side
from fracas.harness.run.proxywatch import ProxyWatch
from fracas.harness.run.services import SERVICES, FakeProcess, spawn_fake, wait_fakes_healthy

#: Orchestrators kept starting ahead of the examples that will use them.
SPARES = 2


@dataclass
class TopologyConfig:
    run_dir: Path
    seed: int = 0
    fault_backend: str | None = None
    orchestrator: AdapterSpec | None = None
    start_timeout: float = 30.0
    #: An adapter object to use instead of the one the spec describes (your own class;
    #: the spec still gives the start timeout).
    adapter: OrchestratorAdapter | None = None


@dataclass
class Topology:
    """Handles to every running part. Build with ``Topology.start(config)``."""

    config: TopologyConfig
    backend: FaultBackend
    fakes: dict[str, FakeProcess]
    proxy_names: dict[str, str]
    proxy_urls: dict[str, str]
    orchestrator: OrchestratorAdapter
    started_in: float = 0.0
    seed: int = 0
    #: The orchestrator's state dir is state/orchestrator-N; N counts the starts on an
    #: empty state dir. Spares (started ahead, see ``reset``) wait in order of N.
    _generation: int = 0
    _spare_envs: list[OrchestratorEnv] = field(default_factory=list)
    _env: OrchestratorEnv | None = None  # the running orchestrator's
    _admin: httpx.Client = field(
        default_factory=lambda: httpx.Client(timeout=scaled(10.0), trust_env=False)
    )
    #: The broker of a choreography (None: an orchestrator, no broker).
    broker: BrokerSide | None = None
    #: Restarts the fault proxy's server if it dies, and says so (run/proxywatch.py).
    watch: ProxyWatch | None = None

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def start(cls, config: TopologyConfig) -> Topology:
        t0 = time.monotonic()
        run_dir = Path(config.run_dir)
        logs = run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for old in logs.glob("*.log"):  # an earlier session's: its lines are not this run's
            old.unlink(missing_ok=True)
        spec = config.orchestrator or resolve_spec()
        config.orchestrator = spec  # as resolved: replay files record it
        backend = make_backend(config.fault_backend, seed=config.seed, log_dir=logs)
        fakes: dict[str, FakeProcess] = {}
        choreography = spec.choreography is not None and config.adapter is None
        adapter: OrchestratorAdapter | None = config.adapter
        if adapter is None and not choreography:
            adapter = adapter_from_spec(spec)
        broker: BrokerSide | None = None
        topo: Topology | None = None
        try:
            for name in SERVICES:
                fakes[name] = spawn_fake(name, run_dir / "state" / name, config.seed, log_dir=logs)
            backend.start()
            # Before the proxies: a fake whose port was taken meanwhile comes back on another.
            fakes = wait_fakes_healthy(fakes, scaled(config.start_timeout))
            proxy_names = {
                name: name
                if not isinstance(backend, UrlBackend)
                else f"fracas-{os.getpid()}-{name}"
                for name in SERVICES
            }
            made = backend.client.populate(
                [
                    {
                        "name": proxy_names[n],
                        "listen": f"{LOOPBACK}:0",
                        "upstream": f"{LOOPBACK}:{fakes[n].port}",
                        "enabled": True,
                    }
                    for n in SERVICES
                ]
            )
            by_name = {p.name: p for p in made}
            proxy_urls = {n: f"http://{LOOPBACK}:{by_name[proxy_names[n]].port}" for n in SERVICES}
            if choreography:
                broker, adapter = start_broker_side(spec, run_dir, backend,
                                                    scaled(config.start_timeout))  # fmt: skip
            assert adapter is not None
            topo = cls(config, backend, fakes, proxy_names, proxy_urls, adapter, seed=config.seed,
                       broker=broker)  # fmt: skip
            topo._start_orchestrator(fresh=True)
            proxies = [p.to_json() for p in backend.client.proxies().values()]
            topo.watch = ProxyWatch(backend, proxies).start()
            topo.started_in = time.monotonic() - t0
            return topo
        except BaseException:
            if topo is not None:
                topo.stop()
            else:
                for fake in fakes.values():
                    fake.process.kill()
                if adapter is not None:
                    adapter.stop()
                if broker is not None:
                    broker.stop()
                backend.stop()
            raise

    def _orchestrator_env(self, state_dir: Path) -> OrchestratorEnv:
        run_dir = Path(self.config.run_dir)
        return OrchestratorEnv(
            service_urls=dict(self.proxy_urls),
            listen_host=LOOPBACK,
            listen_port=free_port(),
            state_dir=state_dir,
            # One log per orchestrator, named as its state dir: a failed start shows its
            # own lines, not those of the copies before it.
            log_path=run_dir / "logs" / f"{state_dir.name}.log",
        )

    def _fresh_env(self) -> OrchestratorEnv:
        self._generation += 1
        state_dir = Path(self.config.run_dir) / "state" / f"orchestrator-{self._generation}"
        if state_dir.exists():
            shutil.rmtree(state_dir)
        state_dir.mkdir(parents=True)
        return self._orchestrator_env(state_dir)

    def _start_orchestrator(self, fresh: bool) -> None:
        """Start the orchestrator on an empty state dir: a spare started during the last
        examples when there is one (its start-up cost is then already paid), else a new
        process. A port taken meanwhile by another process means another port."""
        last = self._env
        env = self._spare_envs.pop(0) if self._spare_envs else None
        for attempt in range(3):
            if env is None:
                env = self._fresh_env() if fresh or last is None else self._orchestrator_env(
                    last.state_dir
                )
            try:
                self.orchestrator.start(env, timeout=self.orchestrator_timeout)
                self._env = env
                break
            except PortTaken:
                self.orchestrator.crash()
                env = None
                if attempt == 2:
                    raise
        assert self._env is not None
        if fresh and last is not None and last.state_dir != self._env.state_dir:
            shutil.rmtree(last.state_dir, ignore_errors=True)  # crashed; nobody reads it
        self._prestart_spares()

    def _prestart_spares(self) -> None:
        """Keep SPARES orchestrators booting ahead of need (a boot takes longer than a
        short example, so one spare alone would often still be starting)."""
        if not self.orchestrator.quiet_start:
            return  # its start-up may call the fakes: it must happen after their reset
        while len(self._spare_envs) < SPARES:
            env = self._fresh_env()
            try:
                self.orchestrator.prestart(env)
            except PortTaken:
                continue  # another port next time round
            self._spare_envs.append(env)

    def stop(self) -> None:
        """Stop everything; safe to call twice and after a partial start."""
        errors: list[BaseException] = []
        if self.watch is not None:
            self.watch.stop()  # before the server is stopped on purpose
        for action in (
            self.orchestrator.stop,
            *(fake.process.kill for fake in self.fakes.values()),
            *((self.broker.stop,) if self.broker is not None else ()),
            self.backend.stop,
            self._admin.close,
        ):
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - keep tearing down
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- between examples ------------------------------------------------------------
    def reset(self, seed: int | None = None, restart_orchestrator: bool = True) -> float:
        """Back to a fresh world: faults healed, ledgers reseeded, proxies clean,
        orchestrator restarted on an empty state dir. One that is ``quiet_start`` (calls
        nobody while starting) is started while the fakes are reset, from a spare that
        booted ahead; any other only once they are. Returns the seconds the fakes and
        proxies took (the part that must stay under 100 ms)."""
        self.seed = self.seed if seed is None else seed
        quiet = self.orchestrator.quiet_start
        if restart_orchestrator:
            self.orchestrator.crash()  # its state is wiped next; no need to shut down
        with ThreadPoolExecutor(len(self.fakes) + 1) as pool:
            early = restart_orchestrator and quiet
            started = pool.submit(self._start_orchestrator, True) if early else None
            t0 = time.monotonic()
            self.ensure_fakes_running()
            if restart_orchestrator:
                # Cut the connections through every proxy that has a toxic: a request of
                # the crashed orchestrator still in one (a latency, a slicer) would
                # otherwise reach its fake after the reset and commit into the next run.
                # Without a toxic nothing waits in a proxy; a request already in a fake
                # is cut there (FakeApp.epoch). /reset enables them again.
                for name in self.toxi.with_toxics():
                    self.toxi.disable(name)
            self.toxi.reset()
            list(pool.map(self._reset_fake, self.fakes.values()))
            spent = time.monotonic() - t0
            if started is not None:
                started.result()
        if restart_orchestrator and not quiet:
            self._start_orchestrator(fresh=True)
        if self.broker is not None:
            self.broker.tap.clear()  # the next run's messages only
        return spent

    def restarts_since(self, t: float) -> dict[str, Any]:
        """``{"proxy_restarts": [...]}`` when the fault proxy's server was restarted at or
        after wall time ``t`` (what a run's report says of it), else nothing."""
        found = self.watch.since(t) if self.watch is not None else []
        return {"proxy_restarts": found} if found else {}

    def ensure_fakes_running(self) -> None:
        """Every fake up, unpaused and healthy, whatever a fault left it as. A fake that
        cannot come back raises ProcessFailed with the tail of its log. The fault proxy's
        server too, if it died (what the watcher does within a tenth of a second)."""
        if self.watch is not None:
            self.watch.check()
        restarted = []
        for fake in self.fakes.values():
            if not fake.process.alive:
                fake.process.start()
                restarted.append(fake)
            elif fake.process.paused:
                fake.process.resume()
        for fake in restarted:
            fake.wait_healthy(scaled(self.config.start_timeout))

    def ensure_running(self) -> None:
        """The fakes and the orchestrator up and unpaused (before a snapshot is read)."""
        self.ensure_fakes_running()
        proc = self.orchestrator.process
        if proc is not None and not proc.alive:
            self.orchestrator.restart(timeout=self.orchestrator_timeout)
        elif proc is not None and proc.paused:
            self.orchestrator.resume()
        for proc, healthy in self._participants().values():
            if not proc.alive:
                proc.start()
            elif proc.paused:
                proc.resume()
            # one a message fault's heal started without waiting (faults/process.py)
            proc.wait_healthy(healthy, self.orchestrator_timeout)

    def _participants(self, view: bool = False) -> dict[str, tuple[ProcessHandle, Callable[[], bool]]]:
        """A choreography's participants with their health checks, the order view (which
        is also the "orchestrator") only when ``view``: each is a process fault's target
        as ``participant:NAME``."""
        members = getattr(self.orchestrator, "members", None)
        if not isinstance(members, dict):
            return {}
        skip = None if view else self.orchestrator.process
        return {n: (m.process, m.healthy) for n, m in members.items()
                if m.process is not None and m.process is not skip}  # fmt: skip

    def _reset_fake(self, fake: FakeProcess) -> None:
        self._admin.delete(f"{fake.url}/_fracas/faults").raise_for_status()
        self._admin.post(f"{fake.url}/_fracas/reset", json={"seed": self.seed}).raise_for_status()

    # -- access ----------------------------------------------------------------------
    @property
    def orchestrator_timeout(self) -> float:
        """How long the orchestrator may take to become healthy ([tool.fracas.orchestrator]
        start_timeout, FRACAS_ORCHESTRATOR_START_TIMEOUT, --orchestrator-start-timeout)."""
        spec = self.config.orchestrator
        return scaled(spec.start_timeout if spec is not None else self.config.start_timeout)

    @property
    def toxi(self) -> ToxiClient:
        return self.backend.client

    def admin_url(self, service: str) -> str:
        return self.fakes[service].url

    def fault_context(self) -> SimpleFaultContext:
        """What the fault catalog needs to apply and heal faults on this topology."""
        processes: dict[str, ProcessHandle] = {n: fake.process for n, fake in self.fakes.items()}
        health: dict[str, Any] = {name: fake.healthy for name, fake in self.fakes.items()}
        proc = self.orchestrator.process
        if proc is not None:
            processes["orchestrator"] = proc
            health["orchestrator"] = self.orchestrator.healthy
        for name, (member, healthy) in self._participants(view=True).items():
            processes[f"participant:{name}"] = member
            health[f"participant:{name}"] = healthy
        proxies = dict(self.proxy_names)
        if self.broker is not None:
            proxies["broker"] = self.broker.proxy_name
        return SimpleFaultContext(
            toxiproxy=self.toxi,
            proxies=proxies,
            admin_urls={name: fake.url for name, fake in self.fakes.items()},
            processes=processes,
            health=health,
            health_timeout=scaled(self.config.start_timeout),
        )

    def ledgers(self) -> dict[str, Any]:
        """Every fake's `/_fracas/state` (contract §6)."""
        return {n: self._get_json(f"{f.url}/_fracas/state") for n, f in self.fakes.items()}

    def messages(self) -> list[dict[str, Any]]:
        """What the broker moved since the last reset (none without a broker)."""
        return self.broker.tap.take() if self.broker is not None else []

    def journals(self) -> dict[str, list[dict[str, Any]]]:
        """Every fake's whole journal since its last reset (contract §6)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name, fake in self.fakes.items():
            entries: list[dict[str, Any]] = []
            since = 0
            while True:
                page = self._get_json(f"{fake.url}/_fracas/journal?since={since}")
                entries.extend(page["entries"])
                if not page["entries"] or page.get("next", since) == since:
                    break
                since = page["next"]
            out[name] = entries
        return out

    def _get_json(self, url: str) -> Any:
        resp = self._admin.get(url)
        resp.raise_for_status()
        return resp.json()

    def urls(self) -> dict[str, str]:
        """What `fracas up` prints: every service direct and proxied, and the orchestrator."""
        out = {"orchestrator": self.orchestrator.url, "toxiproxy": self.backend.base_url or ""}
        for name in SERVICES:
            out[name] = self.proxy_urls[name]
            out[f"{name} (direct, admin)"] = self.fakes[name].url
        if self.broker is not None:
            out["broker"] = self.broker.proxied_url
            out["broker (direct)"] = self.broker.link.url
        return out
