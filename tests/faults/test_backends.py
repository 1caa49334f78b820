"""Backends: real processes where this machine has them, honest error paths where not."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from faults_support import Upstream, our_children

from fracas.harness.backends import (
    BACKENDS,
    BackendError,
    BinaryBackend,
    DockerBackend,
    EmbeddedBackend,
    UrlBackend,
    make_backend,
)
from fracas.harness.kit.net import LOOPBACK, free_port, is_listening
from fracas.harness.kit.procs import ManagedProcess, python_argv
from fracas.harness.kit.toxiclient import ToxiClient


def test_default_is_embedded_and_toxiproxy_url_implies_url() -> None:
    assert isinstance(make_backend(env={}), EmbeddedBackend)
    assert isinstance(make_backend(env={"TOXIPROXY_URL": "http://127.0.0.1:8474"}), UrlBackend)
    assert isinstance(
        make_backend(env={"FRACAS_FAULT_BACKEND": "embedded", "TOXIPROXY_URL": "http://x:1"}),
        EmbeddedBackend,
    )
    assert isinstance(make_backend("docker", env={}), DockerBackend)


def test_bad_backend_name_names_the_field_and_the_choices() -> None:
    with pytest.raises(BackendError) as info:
        make_backend(env={"FRACAS_FAULT_BACKEND": "podman"})
    msg = str(info.value)
    assert "FRACAS_FAULT_BACKEND" in msg and "'podman'" in msg
    assert all(name in msg for name in BACKENDS)
    with pytest.raises(BackendError, match=r"^backend must be one of"):
        make_backend("nope", env={})


def test_url_backend_needs_toxiproxy_url() -> None:
    with pytest.raises(BackendError, match="TOXIPROXY_URL=http://host:port"):
        make_backend(env={"FRACAS_FAULT_BACKEND": "url"})
    with pytest.raises(BackendError, match="TOXIPROXY_URL"):
        UrlBackend("not a url")


def test_url_backend_says_when_nothing_answers() -> None:
    backend = UrlBackend(f"http://{LOOPBACK}:{free_port()}", start_timeout=0.3)
    with pytest.raises(BackendError, match="no toxiproxy answered at TOXIPROXY_URL"):
        backend.start()


def test_binary_backend_not_on_path(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as info:
        make_backend("binary", env={"PATH": str(tmp_path)})
    msg = str(info.value)
    assert msg.startswith("binary backend: toxiproxy-server not found on PATH")
    assert str(tmp_path) in msg and "embedded" in msg and "\n" not in msg


def test_docker_backend_without_engine_says_so_in_one_line(tmp_path: Path) -> None:
    missing = f"unix://{tmp_path}/docker.sock"
    backend = DockerBackend(engine_url=missing)
    with pytest.raises(BackendError) as info:
        backend.start()
    msg = str(info.value)
    assert msg.startswith(f"docker backend: no Docker engine answered at {missing} (")
    assert msg.endswith("; use the embedded backend or set TOXIPROXY_URL")
    assert "\n" not in msg
    backend.stop()  # never started: a no-op


@pytest.mark.skipif(
    os.path.exists("/var/run/docker.sock") or "DOCKER_HOST" in os.environ,
    reason="a Docker engine may answer here",
)
def test_docker_default_engine_message() -> None:
    with pytest.raises(BackendError, match="at unix:///var/run/docker.sock"):
        make_backend("docker", env={}).start()


def test_embedded_start_stop_leaves_no_process(tmp_path: Path) -> None:
    before = our_children()
    backend = EmbeddedBackend(seed=3, log_dir=tmp_path)
    with backend as b:
        url = b.start()
        assert b.start() == url  # idempotent
        assert ToxiClient(url).version()
        assert b.process is not None
        pid = b.process.pid
        assert our_children() - before == {pid}
        assert "--seed 3" in " ".join(b.process.argv)
    assert backend.process is None and backend.base_url is None
    assert our_children() == before
    assert not is_listening(int(url.rsplit(":", 1)[1]))
    backend.stop()  # twice is fine


def test_embedded_own_log_dir_is_removed() -> None:
    backend = EmbeddedBackend()
    backend.start()
    log_dir = backend.log_dir
    assert log_dir is not None and (log_dir / "toxiproxy.log").exists()
    backend.stop()
    assert not log_dir.exists()


def test_url_backend_deletes_only_its_proxies_and_leaves_server_running(
    tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedBackend(log_dir=tmp_path) as server:
        assert server.base_url is not None
        others = ToxiClient(server.base_url)
        others.create_proxy("someone-elses", f"{LOOPBACK}:{upstream.port}")
        monkeypatch.setenv("TOXIPROXY_URL", server.base_url)
        monkeypatch.delenv("FRACAS_FAULT_BACKEND", raising=False)
        backend = make_backend()
        assert isinstance(backend, UrlBackend)
        with backend:
            mine = backend.client.create_proxy("ours", f"{LOOPBACK}:{upstream.port}")
            body = httpx.get(f"http://{LOOPBACK}:{mine.port}/hello.txt", trust_env=False).text
            assert body.startswith("hello")
        assert set(others.proxies()) == {"someone-elses"}
        assert others.is_up()
        others.close()


def test_binary_backend_with_a_shim_on_path(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "toxiproxy-server"
    # Translate the real server's flags, and record them so the test can see them.
    shim.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {tmp_path}/argv\n'
        "while [ $# -gt 0 ]; do\n"
        '  case "$1" in\n'
        "    -host) host=$2; shift 2;;\n"
        "    -port) port=$2; shift 2;;\n"
        "    -seed) seed=$2; shift 2;;\n"
        "    *) shift;;\n"
        "  esac\n"
        "done\n"
        f'exec {sys.executable} -m fracas.harness.toxiproxy --host "$host" --port "$port" --seed "$seed"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    before = our_children()
    backend = make_backend(
        "binary", env={"PATH": f"{bindir}:/usr/bin:/bin"}, seed=9, log_dir=tmp_path / "logs"
    )
    assert isinstance(backend, BinaryBackend)
    with backend as b:
        assert b.base_url is not None
        assert ToxiClient(b.base_url).is_up()
        port = b.base_url.rsplit(":", 1)[1]
        assert (tmp_path / "argv").read_text().split() == [
            "-host",
            "127.0.0.1",
            "-port",
            port,
            "-seed",
            "9",
        ]
    assert our_children() == before


def test_binary_backend_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "toxiproxy-server"
    shim.write_text("#!/bin/sh\necho 'flag provided but not defined: -seed' >&2\nexit 2\n")
    shim.chmod(0o755)
    backend = BinaryBackend(path=str(bindir), log_dir=tmp_path / "logs", start_timeout=5)
    with pytest.raises(BackendError, match="flag provided but not defined"):
        backend.start()
    assert backend.base_url is None


class _StubContainer:
    """Stands in for a docker-py container; the "image" is the embedded server, really run."""

    def __init__(self, proc: ManagedProcess) -> None:
        self.proc = proc
        self.removed = False

    def logs(self, tail: int = 10) -> bytes:
        return self.proc.log_tail(tail).encode()

    def remove(self, force: bool = False) -> None:
        self.removed = True
        self.proc.kill()


class _StubEngine:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.runs: list[tuple[str, dict[str, Any]]] = []
        self.container: _StubContainer | None = None
        self.closed = False

    @property
    def containers(self) -> _StubEngine:
        return self

    def run(self, image: str, **kwargs: Any) -> _StubContainer:
        self.runs.append((image, kwargs))
        flags = dict(zip(kwargs["command"][::2], kwargs["command"][1::2], strict=True))
        proc = ManagedProcess(
            "container",
            python_argv("fracas.harness.toxiproxy", "--host", flags["-host"], "--port", flags["-port"]),
            self.log_dir / "container.log",
        ).start()
        self.container = _StubContainer(proc)
        return self.container

    def close(self) -> None:
        self.closed = True


def test_docker_backend_runs_the_image_with_host_networking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _StubEngine(tmp_path)
    backend = DockerBackend(seed=4)
    monkeypatch.setattr(backend, "_connect", lambda: engine)
    before = our_children()
    with backend as b:
        assert b.base_url is not None and ToxiClient(b.base_url).is_up()
        image, kwargs = engine.runs[0]
        assert image == "ghcr.io/shopify/toxiproxy"
        assert kwargs["network_mode"] == "host" and kwargs["detach"] is True
        assert kwargs["command"][:2] == ["-host", "127.0.0.1"]
        assert kwargs["command"][-2:] == ["-seed", "4"]
    assert engine.container is not None and engine.container.removed and engine.closed
    assert our_children() == before


def test_docker_backend_container_that_never_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Silent(_StubEngine):
        def run(self, image: str, **kwargs: Any) -> _StubContainer:
            proc = ManagedProcess(
                "container",
                ["/bin/sh", "-c", "echo 'pull access denied'; exit 1"],
                self.log_dir / "container.log",
            ).start()
            self.container = _StubContainer(proc)
            return self.container

    engine = Silent(tmp_path)
    backend = DockerBackend(start_timeout=0.5)
    monkeypatch.setattr(backend, "_connect", lambda: engine)
    with pytest.raises(BackendError, match="did not answer.*pull access denied"):
        backend.start()
    assert engine.container is not None and engine.container.removed and engine.closed
