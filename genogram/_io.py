"""Writing files whole: the one helper every genogram output goes through."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from genogram.errors import RenderError

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes, *, what: str = "output") -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    A failure never leaves half a file; it raises :class:`RenderError` naming the path.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RenderError(f"cannot write the {what} to {target}: {reason}") from None
    return target
