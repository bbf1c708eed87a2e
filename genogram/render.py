"""The one module that runs Graphviz: geometry for the drawing, and dot's own renderings.

* :func:`geometry` runs ``dot -Tjson`` on DOT text and returns node positions and sizes
  in points (y up, as in PDF): what :func:`genogram.drawing.genogram_drawing` draws from.
* :func:`render` writes a family graph as DOT, or as SVG/PNG drawn by dot itself (the
  quick path: the notation dot cannot draw, such as slashes on a partnership line or the
  household boundary, is approximated or left out).
* :func:`family_drawing` chains layout, DOT, geometry and drawing for one family.

A missing ``dot``, a failure or a timeout raises :class:`genogram.errors.RenderError`
whose message never repeats dot's stderr (which can quote labels, i.e. names).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import networkx as nx
from reportlab.graphics.shapes import Drawing

from genogram._io import write_atomic
from genogram.dot import to_dot
from genogram.drawing import genogram_drawing
from genogram.errors import RenderError
from genogram.layout import GenogramLayout, genogram_layout

__all__ = [
    "DOT_TIMEOUT",
    "FORMATS",
    "family_drawing",
    "geometry",
    "parse_geometry",
    "pdf_to_png",
    "render",
    "run_dot",
]

#: Seconds one ``dot`` run may take before it is abandoned.
DOT_TIMEOUT = 30.0
#: Formats :func:`render` writes.
FORMATS = ("dot", "svg", "png")
_PT = 72.0


def run_dot(source: str, fmt: str, *, timeout: float = DOT_TIMEOUT) -> bytes:
    """Run ``dot -T<fmt>`` on ``source`` and return its output.

    Raises
    ------
    RenderError
        If ``dot`` is not installed, fails, or takes longer than ``timeout`` seconds.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError(
            "Graphviz 'dot' was not found on PATH; install Graphviz (Debian: apt-get install graphviz)"
        )
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz 'dot -T{fmt}' took longer than {timeout:g} s") from None
    except OSError as exc:
        raise RenderError(f"Graphviz 'dot' could not be run ({exc.strerror or type(exc).__name__})") from None
    if done.returncode != 0:
        raise RenderError(f"Graphviz 'dot -T{fmt}' failed (exit {done.returncode}){_where(done.stderr)}")
    return done.stdout


def pdf_to_png(pdf: bytes, *, dpi: int = 150, timeout: float = DOT_TIMEOUT) -> bytes:
    """The first page of a PDF as PNG, by Poppler's ``pdftoppm`` (the genogram in full notation).

    Raises
    ------
    RenderError
        If ``pdftoppm`` is not installed, fails, or takes longer than ``timeout`` seconds.
    """
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise RenderError(
            "'pdftoppm' was not found on PATH; install Poppler (Debian: apt-get install poppler-utils)"
        )
    try:
        done = subprocess.run(
            [exe, "-png", "-r", str(dpi), "-singlefile"],
            input=pdf,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"'pdftoppm' took longer than {timeout:g} s") from None
    except OSError as exc:
        raise RenderError(f"'pdftoppm' could not be run ({exc.strerror or type(exc).__name__})") from None
    if done.returncode != 0 or not done.stdout:
        raise RenderError(f"'pdftoppm' failed (exit {done.returncode})")
    return done.stdout


def _where(stderr: bytes) -> str:
    """Only the line number of a DOT error, never the text dot quotes around it."""
    found = re.search(rb"line (\d+)", stderr)
    return f": error near DOT line {int(found.group(1))}" if found else ""


def parse_geometry(text: str | bytes) -> dict[str, Any]:
    """Node positions and sizes, and edge routes, from ``dot -Tjson`` output, in points.

    Returns
    -------
    dict
        ``{"bb": (x0, y0, x1, y1), "nodes": {name: {"x", "y", "width", "height"}},
        "edges": [{"tail", "head", "points"}]}``: ``x, y`` is a node's centre; ``points`` is
        an edge's cubic B-spline (start, then three points per segment).
    """
    doc = json.loads(text)
    bb = tuple(float(v) for v in str(doc.get("bb", "0,0,0,0")).split(","))
    nodes: dict[str, dict[str, float]] = {}
    names: dict[int, str] = {}
    for obj in doc.get("objects", []):
        names[int(obj.get("_gvid", -1))] = str(obj.get("name"))
        if "pos" not in obj:
            continue
        x, y = (float(v) for v in str(obj["pos"]).split(",")[:2])
        nodes[str(obj["name"])] = {
            "x": x,
            "y": y,
            "width": float(obj.get("width", 0)) * _PT,
            "height": float(obj.get("height", 0)) * _PT,
        }
    edges = []
    for edge in doc.get("edges", []):
        points = [
            (float(x), float(y))
            for token in str(edge.get("pos", "")).split()
            if not token.startswith(("e,", "s,"))
            for x, y in [token.split(",")[:2]]
        ]
        edges.append(
            {"tail": names.get(int(edge["tail"])), "head": names.get(int(edge["head"])), "points": points}
        )
    return {"bb": bb, "nodes": nodes, "edges": edges}


def geometry(dot_source: str, *, timeout: float = DOT_TIMEOUT) -> dict[str, Any]:
    """Lay out ``dot_source`` with ``dot -Tjson``; see :func:`parse_geometry` for the result."""
    return parse_geometry(run_dot(dot_source, "json", timeout=timeout))


def family_drawing(
    G: nx.MultiDiGraph, *, width: float, height: float, layout: GenogramLayout | None = None
) -> Drawing:
    """The genogram of ``G`` as a ReportLab drawing of ``width`` x ``height`` points."""
    layout = layout if layout is not None else genogram_layout(G)
    return genogram_drawing(G, geometry(to_dot(G, layout)), width=width, height=height, layout=layout)


def render(G: nx.MultiDiGraph, path: str | os.PathLike[str], fmt: str = "svg") -> Path:
    """Write the family graph to ``path`` as DOT text, or as SVG/PNG drawn by Graphviz.

    The file is written to a temporary name beside ``path`` and renamed, so a failed
    render never leaves half a file.

    Raises
    ------
    RenderError
        For an unknown format, a Graphviz failure, or a path that cannot be written.
    """
    if fmt not in FORMATS:
        raise RenderError(f"unknown genogram format {fmt!r}; expected one of {FORMATS}")
    source = to_dot(G)
    data = source.encode("utf-8") if fmt == "dot" else run_dot(source, fmt)
    return write_atomic(path, data, what="genogram")
