"""The adapter protocol is the only seam (issue 11.3): an adapter class that shares no
code with ``ProcessAdapter`` (its own launcher, process handle and HTTP client) passes
the crash scenarios, kill, pause and restart of the orchestrator included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from popen_adapter import PopenAdapter, PopenHandle

from fracas.harness.adapters import OrchestratorAdapter, ProcessAdapter, ProcessHandle
from fracas.harness.kit.procs import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

CONFTEST = textwrap.dedent(
    f"""
    import sys

    import pytest

    sys.path.insert(0, {str(HERE)!r})
    from popen_adapter import PopenAdapter

    @pytest.fixture(scope="session")
    def fracas_adapter():
        return PopenAdapter()
    """
)


def members(protocol: type) -> set[str]:
    return {n for n in (*vars(protocol), *protocol.__annotations__) if not n.startswith("_")}


def test_it_is_an_adapter_that_shares_nothing_with_the_process_adapter() -> None:
    adapter = PopenAdapter()
    missing = {n for n in members(OrchestratorAdapter) if not hasattr(PopenAdapter, n)}
    assert not missing, missing
    assert not issubclass(PopenAdapter, ProcessAdapter)
    handle = PopenHandle(["true"], {}, "/dev/null")
    assert isinstance(handle, ProcessHandle) and not isinstance(handle, ManagedProcess)
    assert adapter.process is None  # nothing to fault before it starts

@pytest.mark.slow
def test_the_crash_scenarios_pass_through_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    shutil.copy(ROOT / "scenarios" / "test_crashes.py", tmp_path / "test_crashes.py")
    report = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_crashes.py", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "--fracas-report", str(report), "-rs"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|failed|skipped)", done.stdout))
    # Every crash scenario ran (none skipped for a missing capability) and passed; the
    # ones that kill the orchestrator assert that their fault was applied, which needs
    # the adapter's process handle in the fault context.
    assert counts == {"passed": 10}, done.stdout[-2000:]
    index = json.loads((report / "index.json").read_text())
    assert index["session"]["orchestrator"] == PopenAdapter.description
