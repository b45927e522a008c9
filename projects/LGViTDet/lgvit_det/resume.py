"""Which checkpoint ``--resume`` continues from, when the latest one may be damaged.

Detectron2's checkpointer resumes from the file named in ``output_dir/last_checkpoint``. When that file is
truncated or damaged (a copy cut short, a full disk), :func:`resume_checkpoint` falls back to the newest
intact ``model_*.pth`` in the directory with a warning naming the damaged file (issue 12 item 7, the same
decision as video's ``last.pth`` -> ``last.prev.pth``); when none is intact it raises a
:class:`~lgvit.checkpoint.CheckpointError` naming every damaged file.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from pathlib import Path

from lgvit.checkpoint import CheckpointError

__all__ = ["checkpoint_damage", "resume_checkpoint"]

logger = logging.getLogger(__name__)


def checkpoint_damage(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be a complete ``torch.save`` file (missing, empty, not a zip archive, a member
    failing its CRC), or None when it is intact. Reads the file once; runs no unpickling."""
    path = Path(path)
    if not path.is_file():
        return "does not exist"
    if path.stat().st_size == 0:
        return "is empty (0 bytes)"
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f"is truncated or damaged ({path.stat().st_size} bytes; {type(e).__name__}: {e})"
    if bad is not None:
        return f"is damaged (entry {bad} fails its CRC check)"
    return None


def _iteration(p: Path) -> int:
    m = re.fullmatch(r"model_(\d+)\.pth", p.name)
    return int(m.group(1)) if m else -1


def resume_checkpoint(output_dir: str | os.PathLike) -> str | None:
    """The checkpoint to resume from in ``output_dir``: the one ``last_checkpoint`` names when intact,
    else the newest intact ``model_<iter>.pth`` (warning naming the damaged file). None without any
    checkpoint; :class:`CheckpointError` when there are some but none is intact."""
    out = Path(output_dir)
    marker = out / "last_checkpoint"
    latest = out / marker.read_text().strip() if marker.is_file() else None
    candidates = sorted(
        out.glob("model_*.pth"), key=lambda p: (_iteration(p), p.stat().st_mtime), reverse=True
    )
    if latest is not None:
        candidates = [latest] + [p for p in candidates if p != latest]
    damaged = []
    for p in candidates:
        why = checkpoint_damage(p)
        if why is None:
            if damaged:
                logger.warning("resuming from %s instead: the newer checkpoint %s", p, "; ".join(damaged))
            return str(p)
        damaged.append(f"{p} {why}")
        logger.warning("cannot resume from %s: it %s", p, why)
    if damaged:
        raise CheckpointError(
            f"no intact checkpoint to resume from in {out}:\n  "
            + "\n  ".join(damaged)
            + "\nDelete the damaged file(s) (and last_checkpoint) to start from scratch."
        )
    return None
