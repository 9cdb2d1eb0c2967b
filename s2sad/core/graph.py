"""Core: the computational graph of a Wengert list as DOT text (`s2sad show --stage graph`).

One node per operation (labelled with its statement and the user's line), one per parameter
and one for the return; an edge from each value's definition to each of its uses. Nodes whose
value carries a derivative (the `active` names) are filled and bold. Beside it, optionally,
the derivative's own operations (the adjoint sweep of reverse mode, the tangent statements of
forward mode): the statements of the derivative function that are not copies of the primal's,
with solid edges between them and dashed edges from the primal values they read.

Loops and branches are clusters labelled with their header (`for i in range(n)`, `if x > 0`,
`else`, `while ...`, `try`), a temporary that holds the range or the test spelled as the call
that made it. Definitions reach uses as in a reaching-definitions analysis (both branches of
an `if`, a loop's body twice for the values it carries), so a variable assigned several times
links each use to the assignments that may have made its value. The loop variable of a `for`
is a value of what it iterates over: its uses link to that. Node ids follow the statements'
order, so the same IR always gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s2sad.core.ir import Assign, Call, For, Function, Guard, If, Return, Stmt, Var, While, reads, walk, writes
from s2sad.core.printer import format_atom, format_expr, format_stmt

Defs = dict[str, frozenset[str]]
"""Name -> the nodes whose value it may hold here (in the derivative, a primal node where the
value is the primal's: a parameter or a copied statement; `PRIMAL` + name where that is not known)."""

PRIMAL = "primal:"
"""In the derivative's definitions, `PRIMAL` + name: every primal node that assigns the name."""

HEAD = ('graph [fontname="Helvetica"];', 'node [shape=box, fontname="Helvetica"];', 'edge [fontname="Helvetica"];')
ACTIVE_STYLE = 'style="filled,bold", fillcolor="lightblue"'
DERIVATIVE_STYLE = {"adjoint": 'style=filled, fillcolor="mistyrose"', "tangent": 'style=filled, fillcolor="honeydew"',
                    "taylor": 'style=filled, fillcolor="lightyellow"'}


def escape(text: str) -> str:
    """`text` as the inside of a DOT double-quoted string (a line break becomes `\\n`)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _quoted(text: str) -> str:
    return f'"{escape(text)}"'


@dataclass
class _Graph:
    """What is being written: node statements by cluster, edges, the definitions of each name."""

    prefix: str
    style: str = ""
    count: int = 0
    clusters: int = 0
    order: dict[str, int] = field(default_factory=dict)
    edges: dict[tuple[str, str, bool], None] = field(default_factory=dict)
    every_def: dict[str, dict[str, None]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    """Node -> its statement's text (an assignment's), which a derivative's copy repeats."""
    params: dict[str, str] = field(default_factory=dict)
    """Parameter -> its node."""
    headers: dict[str, str] = field(default_factory=dict)
    """A name assigned once by a call -> that call's text (to write `for i in range(n)`)."""

    def node(self, out: list[str], label: str, attrs: str) -> str:
        self.count += 1
        node_id = f"{self.prefix}{self.count}"
        self.order.setdefault(node_id, len(self.order))
        attrs = ", ".join(a for a in (f"label={_quoted(label)}", attrs) if a)
        out.append(f"{node_id} [{attrs}];")
        return node_id

    def defines(self, node_id: str, names: set[str], defs: Defs) -> None:
        for name in sorted(names):
            defs[name] = frozenset((node_id,))
            self.every_def.setdefault(name, {})[node_id] = None

    def number(self) -> int:
        """A new cluster's number, taken before its statements are walked (outer ones first)."""
        self.clusters += 1
        return self.clusters

    def cluster(self, number: int, label: str, inner: list[str]) -> list[str]:
        return _top_cluster(f"{self.prefix}_{number}", label, inner) if inner else []

    def atom_text(self, atom: object) -> str:
        if isinstance(atom, Var) and atom.name in self.headers:
            return self.headers[atom.name]
        return format_atom(atom)


def _headers(fn: Function) -> dict[str, str]:
    """Names assigned exactly once, by a call: how a loop or branch header spells them."""
    found: dict[str, list] = {}
    for stmt in walk(fn.body):
        for name in writes(stmt):
            found.setdefault(name, []).append(stmt)
    return {name: format_expr(stmts[0].value) for name, stmts in found.items()
            if len(stmts) == 1 and isinstance(stmts[0], Assign) and isinstance(stmts[0].value, Call)
            and stmts[0].target.name == name}


def _join(*states: Defs) -> Defs:
    joined: dict[str, frozenset[str]] = {}
    for state in states:
        for name, nodes in state.items():
            joined[name] = joined.get(name, frozenset()) | nodes
    return joined


class _Writer:
    """Walks one function's statements, writing nodes, clusters and data-flow edges."""

    def __init__(self, graph: _Graph, active: frozenset[str], primal: _Graph | None = None,
                 copies: dict[str, list[str]] | None = None) -> None:
        self.graph = graph
        self.active = active
        self.primal = primal
        """For the derivative: the primal's graph, whose values it reads (dashed edges)."""
        self.copies = copies
        """For the derivative: the primal's assignments as text -> their nodes, in order; each
        is matched once, by its copy."""

    def block(self, body: list[Stmt], defs: Defs) -> tuple[list[str], Defs]:
        out: list[str] = []
        for stmt in body:
            lines, defs = self.stmt(stmt, defs)
            out += lines
        return out, defs

    def stmt(self, stmt: Stmt, defs: Defs) -> tuple[list[str], Defs]:
        if isinstance(stmt, If):
            return self.branch(stmt, defs)
        if isinstance(stmt, For):
            return self.loop(stmt, defs)
        if isinstance(stmt, While):
            return self.while_loop(stmt, defs)
        if isinstance(stmt, Guard):
            number = self.graph.number()
            inner, after = self.block(stmt.body, dict(defs))
            return self.graph.cluster(number, "try", inner), _join(defs, after)
        return self.simple(stmt, defs)

    def simple(self, stmt: Stmt, defs: Defs) -> tuple[list[str], Defs]:
        text = "\n".join(format_stmt(stmt))
        defs = dict(defs)
        if self.copies is not None and not isinstance(stmt, Return) and self.copies.get(text):
            primal_node = self.copies[text].pop(0)  # the primal's own statement, copied
            for name in writes(stmt):
                defs[name] = frozenset((primal_node,))
            return [], defs
        out: list[str] = []
        label = f"{text}\nline {stmt.line}" if stmt.line else text
        node_id = self.graph.node(out, label, self.style_of(stmt))
        if isinstance(stmt, Assign):
            self.graph.texts[node_id] = text
        self.uses(node_id, reads(stmt), defs)
        self.graph.defines(node_id, writes(stmt), defs)
        return out, defs

    def style_of(self, stmt: Stmt) -> str:
        shape = "shape=ellipse" if isinstance(stmt, Return) else ""
        if self.copies is not None:
            style = self.graph.style
        else:
            names = reads(stmt) if isinstance(stmt, Return) else writes(stmt)
            style = ACTIVE_STYLE if names & self.active else ""
        return ", ".join(a for a in (shape, style) if a)

    def uses(self, node_id: str, names: frozenset[str], defs: Defs) -> None:
        for name in sorted(names):
            sources = defs.get(name)
            if sources is None and self.primal is not None:
                sources = frozenset((PRIMAL + name,))
            for source in sorted(sources or (), key=self.rank):
                self.edge(source, node_id)

    def rank(self, source: str) -> tuple[int, int, str]:
        """Sources in the order of their nodes: the primal's first."""
        if source in self.graph.order:
            return (1, self.graph.order[source], source)
        return (0, self.primal.order.get(source, -1) if self.primal else -1, source)

    def edge(self, source: str, target: str) -> None:
        if not source.startswith(PRIMAL):
            self.graph.edges[(source, target, source not in self.graph.order)] = None  # dashed: the primal's
            return
        for primal_node in self.primal.every_def.get(source[len(PRIMAL):], ()):
            self.graph.edges[(primal_node, target, True)] = None

    def branch(self, stmt: If, defs: Defs) -> tuple[list[str], Defs]:
        number = self.graph.number()
        then, after_then = self.block(stmt.body, dict(defs))
        other = self.graph.number()
        orelse, after_else = self.block(stmt.orelse, dict(defs))
        out = self.graph.cluster(number, f"if {self.graph.atom_text(stmt.test)}", then)
        return out + self.graph.cluster(other, "else", orelse), _join(after_then, after_else)

    def loop(self, stmt: For, defs: Defs) -> tuple[list[str], Defs]:
        """A `for` body, walked twice (the second time with what the first carried around)."""
        source = stmt.iter.name if isinstance(stmt.iter, Var) else None
        entry = dict(defs)
        entry[stmt.target.name] = defs.get(source, frozenset()) if source else frozenset()
        number = self.graph.number()
        mark = self.mark()
        _, after = self.block(stmt.body, dict(entry))
        self.rewind(mark)
        inner, after = self.block(stmt.body, _join(entry, after))
        label = f"for {stmt.target.name} in {self.graph.atom_text(stmt.iter)}"
        return self.graph.cluster(number, label, inner), _join(defs, after)

    def while_loop(self, stmt: While, defs: Defs) -> tuple[list[str], Defs]:
        number = self.graph.number()
        mark = self.mark()
        _, after = self.block(stmt.test_body + stmt.body, dict(defs))
        self.rewind(mark)
        inner, after = self.block(stmt.test_body + stmt.body, _join(defs, after))
        label = f"while {self.graph.atom_text(stmt.test)}"
        return self.graph.cluster(number, label, inner), _join(defs, after)

    def mark(self) -> tuple[int, int, dict[str, list[str]] | None]:
        copies = None if self.copies is None else {text: list(nodes) for text, nodes in self.copies.items()}
        return self.graph.count, self.graph.clusters, copies

    def rewind(self, mark: tuple[int, int, dict[str, list[str]] | None]) -> None:
        """Forget the nodes of a first walk through a loop body (its edges stay: the second
        walk makes the same nodes with the same ids, and a superset of its edges)."""
        self.graph.count, self.graph.clusters, copies = mark
        if copies is not None:
            self.copies.clear()
            self.copies.update(copies)


def to_dot(primal: Function, active: frozenset[str], derivative: Function | None = None,
           kind: str = "adjoint") -> str:
    """DOT text of `primal`'s graph (its `active` names marked) and, given the `derivative`
    function, beside it the derivative's operations in a cluster named `kind` ("adjoint",
    "tangent")."""
    graph = _Graph("n", headers=_headers(primal))
    lines = [f"digraph {_quoted(primal.name)} {{", *HEAD]
    lines += _top_cluster("primal", primal.name, _function_nodes(primal, graph, _Writer(graph, active)))
    edges = list(graph.edges)
    if derivative is not None:
        extra = _Graph("d", DERIVATIVE_STYLE.get(kind, DERIVATIVE_STYLE["adjoint"]), headers=_headers(derivative))
        copies: dict[str, list[str]] = {}
        for node_id, text in graph.texts.items():
            copies.setdefault(text, []).append(node_id)
        writer = _Writer(extra, active, graph, copies)
        lines += _top_cluster(kind, kind, _function_nodes(derivative, extra, writer, graph.params))
        edges += list(extra.edges)
    lines += [_edge_line(*edge) for edge in edges]
    return "\n".join(lines) + "\n}\n"


def _function_nodes(fn: Function, graph: _Graph, writer: _Writer, shared: dict[str, str] | None = None) -> list[str]:
    """The parameters' nodes (but those `shared` with the primal, name -> its node) and the body's."""
    out: list[str] = []
    defs: Defs = {}
    for name in fn.params:
        if shared and name in shared:
            defs[name] = frozenset((shared[name],))
            continue
        style = graph.style or (ACTIVE_STYLE if name in writer.active else "")
        node_id = graph.node(out, f"{name}\nparameter", ", ".join(a for a in ("shape=ellipse", style) if a))
        graph.defines(node_id, {name}, defs)
        graph.params[name] = node_id
    body, _ = writer.block(fn.body, defs)
    return out + body


def _top_cluster(name: str, label: str, inner: list[str]) -> list[str]:
    return [f"subgraph cluster_{name} {{", f"  label={_quoted(label)};"] + [f"  {line}" for line in inner] + ["}"]


def _edge_line(source: str, target: str, dashed: bool) -> str:
    return f"{source} -> {target}{' [style=dashed]' if dashed else ''};"
