"""fracas's version, as installed (``fracas --version``, replay files)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def fracas_version() -> str:
    try:
        return version("fracas")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown (not installed)"
