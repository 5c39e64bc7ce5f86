"""Where report files live: `REPORT_DIR` (instance/reports by default), each under a
random name (`<32 hex>.csv` / `.xlsx`) that the job row keeps as its key. A file is
written as `<key>.part` and renamed when complete, so a half-written file is never
offered; a `.part` left by a worker that died is removed by the daily sweep."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

from app.core.clock import utcnow

KEY = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")
PART = ".part"


def root() -> Path:
    return Path(current_app.config["REPORT_DIR"])


def new_key(fmt: str) -> str:
    return f"{secrets.token_hex(16)}.{fmt}"


def path_of(key: str | None) -> Path | None:
    """The file a key names, or None for anything that is not a key we make (no path tricks)."""
    if not key or not KEY.fullmatch(str(key)):
        return None
    return root() / key


def remove(key: str | None) -> bool:
    """Delete a report's file; True when there was one."""
    path = path_of(key)
    if path is None or not path.exists():
        return False
    path.unlink(missing_ok=True)
    return True


def remove_stale_parts(older_than: timedelta, now: datetime | None = None) -> int:
    """Delete half-written files untouched for `older_than` (their worker died)."""
    folder = root()
    if not folder.is_dir():
        return 0
    cutoff = ((now or utcnow()) - older_than).timestamp()
    removed = 0
    for path in folder.glob(f"*{PART}"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
