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


# --------------------------------------------------------------- one dot for many graphs


def _alone(text):
    """The geometry a dot run of its own gives."""
    return parse_geometry(run_dot(text, "json0"))


def test_streamed_geometry_is_the_geometry_dot_gives_alone(G):
    from tests.genogram import family_builder as fb

    graphs = [
        G,
        family_graph(fb.complex_family(), fb.COMPLEX_ID, as_at=fb.AS_AT),
        family_graph(fb.large_family(), fb.LARGE_ID, as_at=fb.AS_AT),
    ]
    texts = [to_dot(g) for g in graphs]
    # several rounds through the same dot, in a different order each time
    for text in [*texts, *reversed(texts), *texts]:
        assert geometry(text) == _alone(text)


GRAPH_TEXT_CASES = [
    {"description": "one graph", "text": "digraph { a -> b }", "one": True},
    {
        "description": "strings and comments with braces",
        "text": 'digraph { a [label="}{"]; /* } */ // }\n}',
        "one": True,
    },
    {"description": "an escaped quote in a string", "text": 'digraph { a [label="x\\"}"] }', "one": True},
    {"description": "two graphs", "text": "digraph { a } digraph { b }", "one": False},
    {"description": "an unclosed graph", "text": "digraph { a -> b", "one": False},
    {"description": "an unclosed string", "text": 'digraph { a [label="x] }', "one": False},
    {"description": "an unclosed comment", "text": "digraph { a /* }", "one": False},
    {"description": "an HTML label", "text": "digraph { a [label=<b>x</b>] }", "one": False},
    {"description": "text after the graph", "text": "digraph { a } b", "one": False},
    {"description": "no graph", "text": "", "one": False},
]


@pytest.mark.parametrize("case", GRAPH_TEXT_CASES, ids=lambda c: c["description"])
def test_only_plainly_one_graph_is_streamed(case):
    from genogram.render import _one_graph

    assert _one_graph(case["text"]) is case["one"]


def test_a_graph_dot_rejects_gives_the_same_error_and_the_next_one_still_lays_out(G):
    bad = 'digraph {\n  a [label="Secret Name"];\n  a -> ;\n}\n'
    with pytest.raises(RenderError) as info:
        geometry(bad)
    assert "line 3" in str(info.value) and "Secret" not in str(info.value)
    text = to_dot(G)
    assert geometry(text) == _alone(text)


def test_streamed_geometry_times_out():
    big = "digraph {" + " ".join(f"n{i} -> n{i + 1};" for i in range(3000)) + "}"
    with pytest.raises(RenderError, match="longer than"):
        geometry(big, timeout=0.001)
    assert set(geometry("digraph { a -> b }")["nodes"]) == {"a", "b"}


def test_a_forked_process_lays_out_with_its_own_dot(G):
    import os

    from genogram import render as module

    text = to_dot(G)
    expected = geometry(text)  # the parent's dot is running now
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        ok = geometry(text) == expected and module._server is not None and module._server.pid == os.getpid()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert geometry(text) == expected
