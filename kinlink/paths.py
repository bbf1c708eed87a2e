"""Where the shipped configuration lives."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CONFIG_DIR", "config_path"]

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def config_path(*parts: str) -> Path:
    """A path inside the shipped `config/` folder."""
    return CONFIG_DIR.joinpath(*parts)
