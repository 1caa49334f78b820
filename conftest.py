"""Wire the fracas pytest plugin in when running from a checkout.

An installed fracas registers the plugin through its ``pytest11`` entry point; loading
it a second time here would make pytest refuse it, so this only loads it when the
entry point is absent (a checkout that was never pip-installed).
"""

from importlib.metadata import entry_points

_installed = any(ep.name == "fracas" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _installed else ["harness.pytest_plugin"]
