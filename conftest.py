"""Wire the fracas pytest plugin in whenever this checkout is pytest's rootdir.

An installed fracas registers the plugin through its ``pytest11`` entry point; loading
it a second time would make pytest refuse it. So this loads the plugin when nothing has
(a checkout never installed, or ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``), and when the
entry point loaded a fracas from somewhere else (a venv made for another checkout) it
stops with one message, rather than let this checkout's tests run another's code.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
_loaded = sys.modules.get("fracas.harness.front.pytest_plugin")

if _loaded is None:
    pytest_plugins = ["fracas.harness.front.pytest_plugin"]
elif not Path(_loaded.__file__ or "").resolve().is_relative_to(ROOT):
    import pytest

    raise pytest.UsageError(
        f"this checkout is {ROOT}, but the fracas plugin pytest loaded is "
        f"{Path(_loaded.__file__ or '?').resolve().parents[2]}. Run `python3 dev.py test` "
        f"(it uses {ROOT / '.venv'}), or `pip install -e {ROOT}[test]` into this environment."
    )
