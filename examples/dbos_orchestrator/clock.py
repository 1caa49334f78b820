"""The test clock: real time plus an offset that `POST /_admin/clock/advance` grows.

The offset lives in a file in FRACAS_STATE_DIR (written atomically), so it survives a
crash like the rest of the state. Workflows read the clock only through `now_step`, a
DBOS step, so a recovered workflow replays the times it saw instead of reading new ones.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from dbos import DBOS

_lock = threading.Lock()


def _path() -> Path:
    return Path(os.environ.get("FRACAS_STATE_DIR", ".")) / "clock.json"


def offset() -> float:
    try:
        return float(json.loads(_path().read_text())["offset"])
    except (OSError, ValueError, KeyError):
        return 0.0


def advance(seconds: float) -> float:
    with _lock:
        new = offset() + seconds
        tmp = _path().with_suffix(".tmp")
        with open(tmp, "w") as fh:
            json.dump({"offset": new}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, _path())
        return new


@DBOS.step()
def now_step() -> float:
    return time.time() + offset()
