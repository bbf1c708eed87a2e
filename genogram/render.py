"""The one module that runs Graphviz: geometry for the drawing, and dot's own renderings.

* :func:`geometry` lays out DOT text with ``dot -Tjson0`` and returns node positions and
  sizes in points (y up, as in PDF): what :func:`genogram.drawing.genogram_drawing` draws
  from. Starting ``dot`` costs more than laying out a family, so each process keeps one
  ``dot`` running and streams graphs through it (:class:`_DotServer`); anything unusual
  (a failure, a timeout, text that is not one well-formed graph) falls back to a ``dot``
  run of its own, so the result and the errors are the same either way.
* :func:`render` writes a family graph as DOT, or as SVG/PNG drawn by dot itself (the
  quick path: the notation dot cannot draw, such as slashes on a partnership line or the
  household boundary, is approximated or left out).
* :func:`family_drawing` chains layout, DOT, geometry and drawing for one family.

A missing ``dot``, a failure or a timeout raises :class:`genogram.errors.RenderError`
whose message never repeats dot's stderr (which can quote labels, i.e. names).
"""

from __future__ import annotations

import atexit
import itertools
import json
import multiprocessing.util
import os
import re
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
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
    return _geometry_of(json.loads(text))


def _geometry_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`parse_geometry` of an already-parsed document."""
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


# Streaming needs poll() on a pipe (POSIX).
_STREAMING = hasattr(select, "poll")
#: Graphs one ``dot`` process lays out before it is replaced (bounds any leak in Graphviz).
_SERVER_GRAPHS = 500
# One DOT token that matters for framing: a string, a comment, an HTML-string opener or a brace.
_DOT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|/\*.*?\*/|//[^\n]*|^#[^\n]*|[{}<"]|/\*', re.S | re.M)


def _one_graph(source: str) -> bool:
    """Whether ``source`` is plainly one complete graph: every string and comment closed,
    no HTML string, and the braces closing exactly once, at the end.

    Only such text is streamed through the shared ``dot`` (a stray quote or comment would
    swallow what follows it); anything else gets a ``dot`` run of its own.
    """
    depth = closed = 0
    end = 0
    for token in _DOT_TOKEN.finditer(source):
        text = token.group()
        if text == "{":
            if closed:
                return False
            depth += 1
        elif text == "}":
            depth -= 1
            if depth < 0:
                return False
            if depth == 0:
                closed += 1
                end = token.end()
        elif text in ('"', "<", "/*"):
            return False  # an unclosed string or comment, or an HTML string
    return closed == 1 and not source[end:].strip()


class _DotServer:
    """One ``dot -Tjson0`` process that lays out graph after graph from its standard input.

    Each request is the graph followed by an empty marker graph with a fresh name; the
    answer is every JSON document ``dot`` writes before the marker's. Used by one process
    (a fork drops the parent's server) and one thread at a time.
    """

    def __init__(self, exe: str) -> None:
        self.exe = exe
        self.pid = os.getpid()
        self.served = 0
        self._names = itertools.count()
        self.proc = subprocess.Popen(
            [exe, "-Tjson0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def layout(self, source: str, timeout: float) -> list[Any] | None:
        """The JSON documents ``dot`` wrote for ``source``; None if ``dot`` stopped or failed.

        Raises
        ------
        RenderError
            If no answer comes within ``timeout`` seconds (the process is then stopped).
        """
        marker = f"kinlink_end_{self.pid}_{next(self._names)}"
        end = f'"name": "{marker}",'.encode()
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:
            return None
        try:
            stdin.write(f"{source}\ndigraph {marker} {{}}\n".encode())
            stdin.flush()
        except OSError:
            return None
        self.served += 1
        deadline = time.monotonic() + timeout
        fd = stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        out = bytearray()
        while True:
            at = out.find(end)
            if at >= 0 and out.find(b"\n}\n", at) >= 0:
                break
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                self.close()
                raise RenderError(f"Graphviz 'dot -Tjson0' took longer than {timeout:g} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None  # dot stopped: a graph it could not read
            out += chunk
        text = out.decode("utf-8")
        decoder = json.JSONDecoder()
        docs: list[Any] = []
        at = 0
        while True:
            while at < len(text) and text[at].isspace():
                at += 1
            if at >= len(text):
                break
            doc, at = decoder.raw_decode(text, at)
            docs.append(doc)
        if not docs or not isinstance(docs[-1], dict) or docs[-1].get("name") != marker:
            return None
        return docs[:-1]

    def close(self) -> None:
        proc = self.proc
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


_server: _DotServer | None = None
_server_lock = threading.Lock()


def _forget_server() -> None:
    """In a forked child: let go of the parent's ``dot`` (its pipes, not its process)."""
    global _server, _server_lock
    _server_lock = threading.Lock()
    if _server is not None:
        for stream in (_server.proc.stdin, _server.proc.stdout):
            if stream is not None:
                stream.close()
    _server = None


def _close_server() -> None:
    global _server
    if _server is not None and _server.pid == os.getpid():
        _server.close()
    _server = None


os.register_at_fork(after_in_child=_forget_server)
atexit.register(_close_server)
_finalizing: int | None = None  # the process that has asked to stop its dot on the way out


def _stop_at_exit() -> None:
    """Stop this process's dot when it ends: at exit, or as a multiprocessing worker ends
    (workers leave through ``os._exit``, which skips ``atexit``)."""
    global _finalizing
    if _finalizing != os.getpid():
        _finalizing = os.getpid()
        multiprocessing.util.Finalize(None, _close_server, exitpriority=10)


def _streamed_layout(exe: str, source: str, timeout: float) -> dict[str, Any] | None:
    """The one JSON document of ``source`` from the shared ``dot``, or None to run it alone."""
    global _server
    with _server_lock:
        server = _server
        if server is not None and (server.exe != exe or server.proc.poll() is not None):
            server.close()
            server = None
        if server is None:
            try:
                server = _server = _DotServer(exe)
            except OSError:
                return None
            _stop_at_exit()
        try:
            docs = server.layout(source, timeout)
        except RenderError:
            _server = None
            raise
        if docs is None or server.served >= _SERVER_GRAPHS:
            server.close()
            _server = None
    return docs[0] if docs is not None and len(docs) == 1 else None


def geometry(dot_source: str, *, timeout: float = DOT_TIMEOUT) -> dict[str, Any]:
    """Lay out ``dot_source`` with ``dot -Tjson0``; see :func:`parse_geometry` for the result.

    Raises
    ------
    RenderError
        As :func:`run_dot`: ``dot`` missing, failing or too slow.
    """
    exe = shutil.which("dot")
    if exe is not None and _STREAMING and _one_graph(dot_source):
        doc = _streamed_layout(exe, dot_source, timeout)
        if doc is not None:
            return _geometry_of(doc)
    return parse_geometry(run_dot(dot_source, "json0", timeout=timeout))


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
