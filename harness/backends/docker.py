"""The official ``ghcr.io/shopify/toxiproxy`` image, run with host networking."""

from __future__ import annotations

import os
from typing import Any

from fracas.harness.backends.base import BackendError, BackendOptions, FaultBackend, register
from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.kit.toxiclient import ToxiClient, ToxiproxyError

IMAGE = "ghcr.io/shopify/toxiproxy"
DEFAULT_ENGINE = "unix:///var/run/docker.sock"


def _one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register
class DockerBackend(FaultBackend):
    """Host networking, so proxies listening on 127.0.0.1 reach fakes on the host's loopback."""

    name = "docker"
    rank = 3

    @classmethod
    def configured(cls, options: BackendOptions) -> FaultBackend:
        return cls(seed=options.seed)

    def __init__(
        self,
        seed: int = 0,
        image: str = IMAGE,
        engine_url: str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self.seed = seed
        self.image = image
        self.engine_url = engine_url
        self.start_timeout = start_timeout
        self._docker: Any = None
        self._container: Any = None

    @property
    def engine(self) -> str:
        return self.engine_url or os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE

    def _connect(self) -> Any:
        try:
            import docker

            client = (
                docker.DockerClient(base_url=self.engine_url, timeout=5)
                if self.engine_url
                else docker.from_env(timeout=5)
            )
            client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "no engine", said once
            raise BackendError(
                f"docker backend: no Docker engine answered at {self.engine} "
                f"({_one_line(exc)}); use the embedded backend or set TOXIPROXY_URL"
            ) from None
        return client

    def _start(self) -> str:
        self._docker = self._connect()
        port = free_port()
        try:
            self._container = self._docker.containers.run(
                self.image,
                command=["-host", LOOPBACK, "-port", str(port), "-seed", str(self.seed)],
                network_mode="host",
                detach=True,
                auto_remove=True,
                name=f"fracas-toxiproxy-{port}",
                labels={"fracas": "toxiproxy"},
            )
        except Exception as exc:  # noqa: BLE001
            self._close_engine()
            raise BackendError(
                f"docker backend: could not run {self.image}: {_one_line(exc)}"
            ) from None
        url = f"http://{LOOPBACK}:{port}"
        probe = ToxiClient(url, timeout=0.5)
        try:
            probe.wait_up(self.start_timeout)
        except ToxiproxyError:
            logs = self._logs()
            self._stop()
            raise BackendError(
                f"docker backend: {self.image} did not answer on {url} within "
                f"{self.start_timeout:.0f}s; container log tail: {logs}"
            ) from None
        finally:
            probe.close()
        return url

    def _logs(self) -> str:
        try:
            raw = self._container.logs(tail=10)
            return raw.decode(errors="replace").strip() if isinstance(raw, bytes) else str(raw)
        except Exception as exc:  # noqa: BLE001
            return f"(no logs: {_one_line(exc)})"

    def _stop(self) -> None:
        if self._container is not None:
            try:
                self._container.remove(force=True)
            except Exception:  # noqa: BLE001 - auto_remove may have beaten us to it
                pass
            self._container = None
        self._close_engine()

    def _close_engine(self) -> None:
        if self._docker is not None:
            self._docker.close()
            self._docker = None
