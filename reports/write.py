"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Each write goes to a temporary file in the same directory, is flushed to disk, then renamed
over the target (``os.replace`` is atomic on POSIX within one filesystem).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_text", "write_json", "read_json"]


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, creating parent directories."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically; NaN is refused (callers clean it to null)."""
    return write_text(path, json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by ``write_json``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
