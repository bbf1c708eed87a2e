"""Running Graphviz: geometry, dot's own renderings, and clear errors (real dot, no mocks)."""

from __future__ import annotations

import pytest

from genogram.dot import to_dot
from genogram.errors import RenderError
from genogram.graph import family_graph
from genogram.render import geometry, parse_geometry, render, run_dot
from tests.genogram.family_fixture import AS_AT, FAMILY_ID, family_tables


@pytest.fixture(scope="module")
def G():
    return family_graph(family_tables(), FAMILY_ID, as_at=AS_AT)


def test_geometry_gives_points_for_every_node(G):
    text = to_dot(G)
    geo = geometry(text)
    x0, y0, x1, y1 = geo["bb"]
    assert x1 > x0 and y1 > y0
    for node in geo["nodes"].values():
        assert x0 - 1 <= node["x"] <= x1 + 1 and y0 - 1 <= node["y"] <= y1 + 1
        assert node["width"] >= 0 and node["height"] >= 0
    assert geo["edges"] and all(len(e["points"]) >= 2 for e in geo["edges"] if e["points"])


def test_parse_geometry_reads_dot_json():
    doc = run_dot('digraph { a [pos="1,2"]; a -> b }', "json")
    geo = parse_geometry(doc)
    assert set(geo["nodes"]) == {"a", "b"}
    assert [(e["tail"], e["head"]) for e in geo["edges"]] == [("a", "b")]


RENDER_CASES = [
    {"description": "DOT text", "fmt": "dot", "starts": b"digraph genogram {"},
    {"description": "SVG drawn by dot", "fmt": "svg", "starts": b"<?xml"},
    {"description": "PNG drawn by dot", "fmt": "png", "starts": b"\x89PNG"},
]


@pytest.mark.parametrize("case", RENDER_CASES, ids=lambda c: c["description"])
def test_render_formats(tmp_path, G, case):
    path = render(G, tmp_path / "out" / f"g.{case['fmt']}", case["fmt"])
    data = path.read_bytes()
    assert data.startswith(case["starts"])
    assert b"P-SUBJ" not in data and b"F-TEST" not in data, "no identifiers in the output"
    if case["fmt"] in ("dot", "svg"):
        assert b"Lily Price" in data
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"


def test_unknown_format(tmp_path, G):
    with pytest.raises(RenderError, match="unknown genogram format"):
        render(G, tmp_path / "g.gif", "gif")


def test_missing_dot_is_a_clear_error(tmp_path, G, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="'dot' was not found"):
        render(G, tmp_path / "g.svg", "svg")
    assert not (tmp_path / "g.svg").exists()


def test_dot_failure_names_the_line_not_the_text():
    with pytest.raises(RenderError) as info:
        run_dot('digraph {\n  a [label="Secret Name"];\n  a -> ;\n}\n', "svg")
    assert "line 3" in str(info.value)
    assert "Secret" not in str(info.value)


def test_dot_timeout():
    big = "digraph {" + " ".join(f"n{i} -> n{i + 1};" for i in range(3000)) + "}"
    with pytest.raises(RenderError, match="longer than"):
        run_dot(big, "svg", timeout=0.001)


def test_unwritable_path(tmp_path, G):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RenderError, match="cannot write"):
        render(G, blocker / "g.dot", "dot")
