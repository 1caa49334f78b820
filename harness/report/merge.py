"""``fracas report merge DIR...``: one report from the report folders of shards that ran
elsewhere. Each folder's parts, runs and replay files are copied into one folder and
indexed as one session, by the same ``parts.build_index`` a single session uses.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from fracas.harness.kit.names import stem_of
from fracas.harness.report.parts import PARTS, MergeError, build_index, read_part

__all__ = ["MergeError", "merge_reports"]

REPLAYS = "replays"


def _parts_of(directory: Path) -> list[Path]:
    """The parts a report folder's index was built from (all parts if it has no index)."""
    if not directory.is_dir():
        raise MergeError(f"{directory}: no such report folder")
    try:
        names = json.loads((directory / "index.json").read_text()).get("parts")
    except (OSError, ValueError, AttributeError):
        names = None
    if isinstance(names, list):
        found = [directory / PARTS / str(n) for n in names]
    else:
        found = sorted((directory / PARTS).glob("*.json"))
    if not found:
        raise MergeError(
            f"{directory}: no report parts (parts/*.json); is it a fracas run report folder?"
        )
    missing = [p for p in found if not p.is_file()]
    if missing:
        raise MergeError(f"{directory}: index.json lists {missing[0].name}, which is missing")
    return found


def _typed(path: Path) -> str:
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def merge_reports(dirs: Sequence[Path], out: Path) -> Path:
    """Copy every folder's runs, replay files and parts into ``out`` and index them as
    one session. Replay commands are rewritten to the copies in ``out/replays``."""
    if not dirs:
        raise MergeError("give at least one report folder to merge")
    sources = [(d, _parts_of(d)) for d in dirs]
    out.mkdir(parents=True, exist_ok=True)
    new_parts: list[Path] = []
    taken: dict[str, Path] = {}
    for n, (src, parts) in enumerate(sources, 1):
        same = src.resolve() == out.resolve()
        rewrites: list[tuple[str, str]] = []
        replays = src / REPLAYS
        if replays.is_dir() and not same:
            (out / REPLAYS).mkdir(exist_ok=True)
            for f in sorted(replays.glob("*.json")):
                shutil.copy2(f, out / REPLAYS / f.name)
            new = _typed(out / REPLAYS)
            rewrites = [(str(replays.resolve()), str((out / REPLAYS).resolve())),
                        (_typed(replays), new)]
        for part in parts:
            data = read_part(part)
            label = f"{n}-{data['part']}" if not same else str(data["part"])
            for r in data["runs"]:
                if r["run"] in taken and taken[r["run"]] != src:
                    raise MergeError(
                        f"run {r['run']!r} is in both {taken[r['run']]} and {src}: the same "
                        "test ran in two of them (overlapping shards?)"
                    )
                taken[r["run"]] = src
                if r.get("replay"):
                    r["replay"] = _rewrite(str(r["replay"]), rewrites)
                if not same:
                    for key in ("html", "json"):
                        _copy_rewritten(src / r[key], out / r[key], rewrites)
            data["part"] = label
            dest = out / PARTS / f"{stem_of(label)}.json"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
            new_parts.append(dest)
    return build_index(out, new_parts)


def _rewrite(text: str, rewrites: Sequence[tuple[str, str]]) -> str:
    for old, new in rewrites:
        text = text.replace(old, new)
    return text


def _copy_rewritten(src: Path, dest: Path, rewrites: Sequence[tuple[str, str]]) -> None:
    if not src.is_file():
        raise MergeError(f"{src}: listed by its folder's report parts but missing")
    if rewrites:
        text = src.read_text(encoding="utf-8")
        dest.write_text(_rewrite(text, rewrites), encoding="utf-8")
    else:
        shutil.copy2(src, dest)
