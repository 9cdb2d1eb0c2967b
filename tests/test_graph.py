"""`s2sad show --stage graph`: the Wengert list as a Graphviz DOT graph, with the adjoint
(reverse mode) or tangent (forward mode) operations beside it, and `--output` that writes the
text or has Graphviz's `dot` draw it."""

from __future__ import annotations

import html
import re
import shutil
import sys

import pytest

import s2sad
from s2sad.api import Transformed, _show_signature
from s2sad.core import graph, ir
from s2sad.core.modes import DIRECTIONS
from s2sad.core.printer import format_stmt
from tests.conftest import ROOT, run_main
from tests.fixtures import graphs, textbook

SCALARS = ("scalar", "scalar")
NODE = re.compile(r"^\s*(\w+) \[label=\"((?:[^\"\\]|\\.)*)\"(.*)\];$")
EDGE = re.compile(r"^(\w+) -> (\w+)( \[style=dashed\])?;$")
CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")


def parse(dot: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, bool]], list[str]]:
    """The nodes (id -> label, attributes), edges (source, target, dashed) and cluster labels of
    DOT text as `graph.to_dot` writes it; every other line must be one of its fixed lines."""
    nodes, edges, labels = {}, [], []
    for line in dot.splitlines()[1:-1]:
        if m := NODE.match(line):
            assert m[1] not in nodes, f"node {m[1]} declared twice"
            nodes[m[1]] = (m[2], m[3])
        elif m := EDGE.match(line):
            edges.append((m[1], m[2], bool(m[3])))
        elif m := re.match(r'^\s*label="(.*)";$', line):
            labels.append(m[1])
        else:
            assert CLUSTER.match(line) or line.strip() == "}" or line.startswith(("graph [", "node [", "edge [")), line
    return nodes, edges, labels


def built(fun, mode: str, argnums, kinds):
    transformed = Transformed(fun, DIRECTIONS[mode], argnums, True)
    return transformed.built(*_show_signature(transformed, mode, kinds, None))


# ------------------------------------------------------------------ golden graphs


GOLDEN = [
    ("graph_f_reverse.dot", textbook.f, "reverse", (0, 1), SCALARS),
    ("graph_f_forward.dot", textbook.f, "forward", (0, 1), SCALARS),
    ("graph_flow_reverse.dot", graphs.flow, "reverse", 0, SCALARS),
    ("graph_flow_forward.dot", graphs.flow, "forward", 0, SCALARS),
    ("graph_scaled_reverse.dot", graphs.scaled, "reverse", 0, SCALARS),
]


@pytest.mark.parametrize("name, fun, mode, argnums, kinds", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_graph_matches_golden(name, fun, mode, argnums, kinds, golden):
    text = s2sad.show(fun, stage="graph", mode=mode, argnums=argnums, kinds=kinds)
    golden(name, text)
    assert text == s2sad.show(fun, stage="graph", mode=mode, argnums=argnums, kinds=kinds)


def test_textbook_graph_nodes_and_edges():
    nodes, edges, labels = parse(s2sad.show(textbook.f, stage="graph", argnums=(0, 1), kinds=SCALARS))
    by_label = {label.split("\\n")[0]: node for node, (label, _) in nodes.items()}
    assert by_label["t1 = np.log(x1)"] == "n3"
    assert nodes["n3"][0] == "t1 = np.log(x1)\\nline 9"
    for source, target in [("x1", "t1 = np.log(x1)"), ("x1", "t2 = x1 * x2"), ("x2", "t2 = x1 * x2"),
                           ("t1 = np.log(x1)", "t3 = t1 + t2"), ("t2 = x1 * x2", "t3 = t1 + t2"),
                           ("t3 = t1 + t2", "return t3")]:
        key = f"{source}\\nparameter" if source in ("x1", "x2") else source
        source_id = next(n for n, (label, _) in nodes.items() if label.split("\\n")[0] == key.split("\\n")[0])
        assert (source_id, by_label[target], False) in edges
    assert labels[:2] == ["f", "adjoint"]
    # the adjoint reads the primal's x2 and x1: dashed edges from the parameters
    assert ("n2", by_label["t6 = bout * x2"], True) in edges
    assert ("n1", by_label["t8 = x1 * bout"], True) in edges
    assert ("n5", by_label["bout = seed(t3)"], True) in edges
    assert all(node.startswith("d") for _, node, dashed in edges if dashed)


def test_every_value_of_the_textbook_function_is_active():
    nodes, _, _ = parse(s2sad.show(textbook.f, stage="graph", argnums=(0, 1), kinds=SCALARS))
    primal = [attrs for node, (_, attrs) in nodes.items() if node.startswith("n")]
    assert len(primal) == 6 and all('style="filled,bold"' in attrs for attrs in primal)


def test_forward_graph_has_tangent_inputs():
    nodes, edges, labels = parse(s2sad.show(textbook.f, stage="graph", mode="forward", argnums=(0, 1),
                                            kinds=SCALARS))
    assert labels[:2] == ["f", "tangent"]
    assert nodes["d1"][0] == "dx1\\nparameter" and nodes["d2"][0] == "dx2\\nparameter"
    assert nodes["d3"][0] == "t4 = strong_div(dx1, x1)\\nline 9"
    assert ("d1", "d3", False) in edges and ("n1", "d3", True) in edges


def test_unoptimized_graph_is_the_adjoint_table():
    """Before optimization the adjoint cluster has the textbook's adjoint table: v̄3 = 1,
    v̄1 = v̄2 = v̄3, x̄1 = v̄2·x2, x̄2 = x1·v̄2, x̄1 += v̄1 / x1 (through copies)."""
    nodes, edges, _ = parse(s2sad.show(textbook.f, stage="graph", argnums=(0, 1), kinds=SCALARS, optimize=False))
    ids = {label.split("\\n")[0]: node for node, (label, _) in nodes.items() if node.startswith("d")}
    for text in ("bt3 = bout", "bt1 = t4", "bt2 = t5", "t6 = bt2 * x2", "t8 = x1 * bt2", "t10 = strong_div(bt1, x1)",
                 "t11 = bx1 + t10"):
        assert text in ids, text
    assert (ids["bt2 = t5"], ids["t6 = bt2 * x2"], False) in edges
    assert (ids["bx1 = t7"], ids["t11 = bx1 + t10"], False) in edges


def test_taylor_graph_has_its_own_cluster():
    nodes, _, labels = parse(s2sad.show(textbook.g, stage="graph", mode="taylor", kinds=("scalar",)))
    assert labels == ["g", "taylor"]
    assert nodes["d1"] == ("x_c\\nparameter", ', shape=ellipse, style=filled, fillcolor="lightyellow"')


def test_loops_and_branches_are_labelled_clusters():
    _, _, labels = parse(s2sad.show(graphs.flow, stage="graph", kinds=SCALARS))
    assert labels == ["flow", "for i in range(n)", "if x > 0", "else", "adjoint", "for i in range(n)",
                      "for i in reversed(t1)", "if t2_trips[i]", "else"]
    _, _, labels = parse(s2sad.show(graphs.flow, stage="graph", mode="forward", kinds=SCALARS))
    assert labels == ["flow", "for i in range(n)", "if x > 0", "else", "tangent", "for i in range(n)", "if x > 0",
                      "else"]


def test_while_and_try_are_clusters():
    _, _, labels = parse(s2sad.show(graphs.doubled, stage="graph", kinds=("scalar",)))
    assert labels[:4] == ["doubled", "while x < 10.0", "try", "if caught1 == 1"]
    assert labels[4] == "adjoint" and "while x < 10.0" in labels[5:]


def test_loop_carried_values_link_back():
    """`s` is assigned before the loop and in both branches: each use links to every assignment
    that may have made its value, including last trip's."""
    nodes, edges, _ = parse(s2sad.show(graphs.flow, stage="graph", kinds=SCALARS))
    ids = {label.split("\\n")[0]: node for node, (label, _) in nodes.items() if node.startswith("n")}
    use = ids["t5 = s + t4"]
    assert {source for source, target, _ in edges if target == use} == {
        ids["s = 0.0"], ids["s = t5"], ids["s = t6"], ids["t4 = t3 * i"]}
    # the loop variable is a value of what the loop runs over
    assert (ids["t1 = range(n)"], ids["t4 = t3 * i"], False) in edges


def test_inactive_values_are_plain():
    nodes, _, _ = parse(s2sad.show(graphs.scaled, stage="graph", kinds=SCALARS))
    styles = {label.split("\\n")[0]: attrs for node, (label, attrs) in nodes.items() if node.startswith("n")}
    assert styles["n"] == ", shape=ellipse"
    assert styles["k = n * 2.0"] == "" and styles["c = np.cos(k)"] == ""
    for active in ("x", "t1 = x * c", "return t1"):
        assert 'style="filled,bold"' in styles[active]


CASES = [(textbook.f, (0, 1), SCALARS), (textbook.g, 0, ("scalar",)), (textbook.euler, 0, ("scalar",) * 3),
         (graphs.flow, 0, SCALARS), (graphs.scaled, 0, SCALARS), (graphs.quoted, 0, ("scalar",)),
         (graphs.doubled, 0, ("scalar",)),
         (textbook.loss, 0, ("array",) * 3)]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fun, argnums, kinds", CASES, ids=[c[0].__name__ for c in CASES])
def test_graph_is_well_formed(fun, argnums, kinds, mode):
    """Every edge joins declared nodes; the primal has one node per operation, parameter and
    return, labelled with its statement; the derivative one per statement that is not a copy
    of the primal's."""
    b = built(fun, mode, argnums, kinds)
    nodes, edges, _ = parse(graph.to_dot(b.primal, b.activity.active, b.derivative,
                                         "adjoint" if mode == "reverse" else "tangent"))
    assert all(source in nodes and target in nodes for source, target, _ in edges)
    assert len(set(edges)) == len(edges)
    ops = [s for s in ir.walk(b.primal.body) if isinstance(s, (ir.Assign, ir.Return))]
    primal = [label for node, (label, _) in nodes.items() if node.startswith("n")]
    assert len(primal) == len(ops) + len(b.primal.params)
    assert [label.rsplit("\\nline", 1)[0] for label in primal[len(b.primal.params):]] == [
        graph.escape(_text(op)) for op in ops]
    assert any(node.startswith("d") for node in nodes)
    assert all(not dashed or (source.startswith("n") and target.startswith("d")) for source, target, dashed in edges)


def _text(stmt: ir.Stmt) -> str:
    return "\n".join(format_stmt(stmt))


def test_labels_are_escaped():
    assert graph.escape('say "hi" \\ now\nline 3') == 'say \\"hi\\" \\\\ now\\nline 3'
    nodes, _, _ = parse(s2sad.show(graphs.quoted, stage="graph", kinds=("scalar",)))
    assert nodes["n2"][0] == "tag = 'say \\\"hi\\\" \\\\\\\\ {bye}'\\nline 23"


def test_unknown_stage_names_graph():
    with pytest.raises(ValueError, match="'graph'"):
        s2sad.show(textbook.f, stage="picture")


# ------------------------------------------------------------------ the command line


TARGET = ("show", "tests/fixtures/textbook.py:f", "--argnums", "0,1", "--kinds", "scalar,scalar", "--stage", "graph")


def test_cli_prints_and_writes_dot(tmp_path):
    printed = run_main(*TARGET)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == s2sad.show(textbook.f, stage="graph", argnums=(0, 1), kinds=SCALARS)
    for name in ("f.dot", "f.gv"):
        result = run_main(*TARGET, "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert (tmp_path / name).read_text() == printed.stdout


def test_cli_output_of_another_stage_is_its_text(tmp_path):
    out = tmp_path / "f.svg"
    result = run_main("show", "tests/fixtures/textbook.py:f", "--argnums", "0,1", "--stage", "ir", "--output",
                      str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "def f(x1, x2):\n    t1 = np.log(x1)\n    t2 = x1 * x2\n    t3 = t1 + t2\n    return t3\n"


def test_cli_without_graphviz_says_how_to_get_it(tmp_path, cli):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = cli(*TARGET, "-o", str(tmp_path / "f.svg"), env={"PATH": str(empty)})
    assert result.returncode == 1
    assert result.stderr == (
        f"s2sad: error: cannot render {tmp_path / 'f.svg'}: Graphviz's dot program is not installed (apt install "
        "graphviz / brew install graphviz / conda install graphviz), or write the DOT text with -o file.dot\n")
    assert not (tmp_path / "f.svg").exists()


FAKE_DOT = """#!{python}
import sys
with open({log!r}, "w") as log:
    log.write("\\n".join(sys.argv[1:]))
text = sys.stdin.read()
with open(sys.argv[sys.argv.index("-o") + 1], "w") as out:
    out.write("rendered " + str(len(text)))
"""


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_cli_runs_dot_to_draw(tmp_path, cli, fmt):
    """A stand-in `dot` on PATH records how it is called and what it is given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(FAKE_DOT.format(python=sys.executable, log=str(tmp_path / "argv")))
    fake.chmod(0o755)
    out = tmp_path / f"f.{fmt.upper() if fmt == 'pdf' else fmt}"
    result = cli(*TARGET, "--output", str(out), env={"PATH": str(bin_dir)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "argv").read_text().split("\n") == [f"-T{fmt}", "-o", str(out)]
    text = s2sad.show(textbook.f, stage="graph", argnums=(0, 1), kinds=SCALARS)
    assert out.read_text() == f"rendered {len(text)}"


def test_cli_reports_a_failing_dot(tmp_path, cli):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stderr.write('Error: syntax error in line 1\\n')\n"
                    "sys.exit(1)\n")
    fake.chmod(0o755)
    result = cli(*TARGET, "-o", str(tmp_path / "f.png"), env={"PATH": str(bin_dir)})
    assert result.returncode == 1
    assert result.stderr == f"s2sad: error: dot could not render {tmp_path / 'f.png'}: Error: syntax error in line 1\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (the fake dot runs above)")
def test_cli_draws_svg_with_graphviz(tmp_path):
    out = tmp_path / "f.svg"
    result = run_main(*TARGET, "-o", str(out))
    assert result.returncode == 0, result.stderr
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "t1 = np.log(x1)" in svg and "bout = seed(t3)" in svg
    assert "cluster_adjoint" in svg


def test_cli_cannot_write_into_a_missing_folder(tmp_path):
    out = tmp_path / "missing" / "f.dot"
    result = run_main(*TARGET, "-o", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"s2sad: error: cannot write {out}: ")


def test_show_help_names_the_graph_stage():
    text = " ".join(run_main("show", "--help").stdout.split())
    assert "{final,ir,activity,graph}" in text
    assert "or graph (the computational graph and its adjoint or tangent operations, as Graphviz DOT text)" in text
    assert "--output FILE write to FILE instead of printing" in text  # (3.13 prints "-o, --output FILE")


def test_the_docs_picture_is_the_quickstart_graph():
    """docs/graph.svg (drawn by Graphviz from `--stage graph`, see docs/how-it-works.md) shows
    every node of the graph s2sad makes now."""
    svg = (ROOT / "docs" / "graph.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    result = run_main("show", "examples/quickstart.py:f", "--argnums", "0,1", "--kinds", "scalar,scalar", "--stage",
                      "graph")
    nodes, _, labels = parse(result.stdout)
    for label, _ in nodes.values():
        for part in label.split("\\n"):
            assert html.escape(part, quote=False).replace("'", "&#39;") in svg, part
    assert labels == ["f", "adjoint"] and "cluster_adjoint" in svg
