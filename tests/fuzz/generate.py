"""A seeded generator of random programs over the constructs docs/programs.md lists as supported.

A program is a module of source text: a few helper functions (one of them recursive, sometimes)
and an entry function `f` of 1-3 arguments (floats and float64 arrays of shapes (3,) and (2, 3))
that returns a scalar or, for Jacobian checks, an array. Every value is built from smooth
operations on bounded inputs (tanh, sin, log(1 + e*e), e / (1 + e*e), small constants), so central
finite differences are trustworthy; branch conditions compare against constants and are checked
for a margin at the test point by `checks.validate`. The same seed always gives the same program.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

Shape = tuple[int, ...]
SHAPES: list[Shape] = [(), (2,), (3,), (2, 3)]
ARG_SHAPES: list[Shape] = [(), (3,), (2, 3)]
VIEW = re.compile(r"^([a-z]\w*)(\[[^\]]*\]|\.T)?$")


@dataclass
class Program:
    """Source text of a module, the entry's arguments, and whether the entry returns an array."""

    seed: int
    source: str
    args: tuple
    vector: bool
    entry: str = "f"


@dataclass
class Var:
    kind: str  # "arr" (float or array), "int", "list", "tuple", "dict"
    shape: Shape = ()
    length: int = 0  # list length
    items: tuple = ()  # tuple item shapes
    keys: tuple = ()  # dict keys (all of one shape)


@dataclass
class Scope:
    vars: dict[str, Var] = field(default_factory=dict)
    writable: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)

    def child(self) -> Scope:
        return Scope(dict(self.vars), set(self.writable), set(self.params))


@dataclass
class Helper:
    name: str
    params: list[Shape]
    out: Shape
    recursive: bool = False


def _lit(rng: random.Random, lo: float = -1.0, hi: float = 1.0) -> str:
    return repr(round(rng.uniform(lo, hi), 2))


def _array_lit(rng: random.Random, shape: Shape) -> str:
    vals = np.round(np.array([rng.uniform(-1, 1) for _ in range(int(np.prod(shape)))]), 2).reshape(shape)
    return f"np.array({vals.tolist()!r})"


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.counter = 0
        self.helpers: list[Helper] = []
        self.loop_depth = 0
        self.uses_checked = False

    # ---- names and choices -------------------------------------------------------------
    def fresh(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def of(self, shape: Shape, scope: Scope) -> list[str]:
        return [n for n, v in scope.vars.items() if v.kind == "arr" and v.shape == shape]

    # ---- expressions -------------------------------------------------------------------
    def leaf(self, shape: Shape, scope: Scope) -> str:
        rng = self.rng
        options = self.of(shape, scope)
        if options and self.chance(0.85):
            # later names more often, so that values depend on each other in chains
            return options[min(len(options) - 1, int(len(options) * rng.random() ** 0.5))]
        derived = self.derived_leaf(shape, scope)
        if derived and self.chance(0.8):
            return derived
        if shape == ():
            ints = [n for n, v in scope.vars.items() if v.kind == "int"]
            if ints and self.chance(0.3):
                return f"{_lit(rng, 0.1, 0.5)} * {rng.choice(ints)}"
            return _lit(rng)
        if self.chance(0.5):
            scalars = self.of((), scope)
            if scalars:
                return f"{rng.choice(scalars)} * np.ones({shape if len(shape) > 1 else shape[0]})"
        return _array_lit(rng, shape)

    def derived_leaf(self, shape: Shape, scope: Scope) -> str | None:
        """An index, a slice, or an element of a container that has this shape."""
        rng = self.rng
        cands: list[str] = []
        for name, v in scope.vars.items():
            if v.kind == "arr":
                cands += self._slices(name, v.shape, shape)
            elif v.kind == "list" and v.shape == shape and v.length > 0:
                cands.append(f"{name}[{rng.randrange(-v.length, v.length)}]")
            elif v.kind == "tuple":
                cands += [f"{name}[{i}]" for i, s in enumerate(v.items) if s == shape]
            elif v.kind == "dict" and v.shape == shape:
                cands.append(f"{name}[{rng.choice(v.keys)!r}]")
        return rng.choice(cands) if cands else None

    def _slices(self, name: str, have: Shape, want: Shape) -> list[str]:
        r = self.rng
        table = {
            ((3,), ()): [f"{name}[{r.randrange(-3, 3)}]"],
            ((2,), ()): [f"{name}[{r.randrange(-2, 2)}]"],
            ((2, 3), ()): [f"{name}[{r.randrange(2)}, {r.randrange(3)}]"],
            ((3,), (2,)): [f"{name}[0:2]", f"{name}[1:]", f"{name}[::2]"],
            ((2, 3), (3,)): [f"{name}[{r.randrange(2)}]", f"{name}[-1, :]"],
            ((2, 3), (2,)): [f"{name}[:, {r.randrange(3)}]"],
            ((3,), (3,)): [f"{name}[::-1]"],
            ((2, 3), (2, 3)): [f"{name}[::-1]", f"{name}.T.T"],
        }
        return table.get((have, want), [])

    def expr(self, shape: Shape, scope: Scope, depth: int) -> str:
        if depth <= 0 or self.chance(0.2):
            return self.leaf(shape, scope)
        rng = self.rng
        d = depth - 1
        pick = rng.random()
        if pick < 0.28:
            return self.binop(shape, scope, d)
        if pick < 0.50:
            return self.unary(shape, scope, d)
        if pick < 0.70:
            return self.shaped(shape, scope, d)
        if pick < 0.78:
            return self.cond_expr(shape, scope, d)
        if pick < 0.88 and self.helpers:
            call = self.call(shape, scope, d)
            if call:
                return call
        if pick < 0.96:
            comp = self.comprehension(shape, scope, d)
            if comp:
                return comp
        return self.leaf(shape, scope)

    def binop(self, shape: Shape, scope: Scope, d: int) -> str:
        rng = self.rng
        a = self.expr(shape, scope, d)
        other = shape if not shape or self.chance(0.6) else ()
        b = self.expr(other, scope, d)
        if self.chance(0.5):
            a, b = b, a
        op = rng.choice(["+", "-", "*", "*", "div"])
        if op == "div":
            return f"({a}) / (1.0 + ({b}) ** 2)" if self.chance(0.5) else f"({a}) / (1.5 + np.sin({b}))"
        if op == "*" and self.chance(0.5):
            return f"{_lit(rng, 0.2, 0.9)} * ({a}) * ({b})"
        return f"({a} {op} {b})"

    def unary(self, shape: Shape, scope: Scope, d: int) -> str:
        e = self.expr(shape, scope, d)
        forms = ["np.sin({e})", "np.cos({e})", "np.tanh({e})", "np.arctan({e})", "np.log(1.0 + ({e}) ** 2)",
                 "np.sqrt(1.0 + ({e}) * ({e}))", "np.exp(np.tanh({e}))", "np.exp(-({e}) ** 2)", "({e}) ** 2",
                 "-({e})", "np.arcsinh({e})", "np.square(np.tanh({e}))", "np.sinh(np.sin({e}))"]
        if shape == ():
            forms += ["math.sin({e})", "math.tanh({e})", "math.exp(math.cos({e}))", "math.log(2.0 + math.sin({e}))",
                      "math.sqrt(2.0 + math.cos({e}))", "math.atan({e})", "float({e})"]
        return self.rng.choice(forms).format(e=e)

    def shaped(self, shape: Shape, scope: Scope, d: int) -> str:
        """Reductions, matmul, slices of expressions and array constructions into `shape`."""
        rng = self.rng
        e = lambda s: self.expr(s, scope, d)  # noqa: E731
        forms: dict[Shape, list] = {
            (): [lambda: f"np.sum({e(rng.choice([(3,), (2, 3), (2,)]))})", lambda: f"np.mean({e((2, 3))})",
                 lambda: f"({e((3,))}).sum()", lambda: f"np.dot({e((3,))}, {e((3,))})",
                 lambda: f"({e((3,))}) @ ({e((3,))})", lambda: f"np.prod(np.tanh({e((3,))}))",
                 lambda: f"np.sum({e((2, 3))} * {e((2, 3))}, axis=None)", lambda: f"({e((2,))})[1]"],
            (2,): [lambda: f"np.sum({e((2, 3))}, axis=1)", lambda: f"({e((2, 3))}) @ ({e((3,))})",
                   lambda: f"np.array([{e(())}, {e(())}])", lambda: f"({e((3,))})[1:]",
                   lambda: f"np.mean({e((2, 3))}, axis=-1)"],
            (3,): [lambda: f"np.sum({e((2, 3))}, axis=0)", lambda: f"({e((2,))}) @ ({e((2, 3))})",
                   lambda: f"({e((2, 3))}).T @ ({e((2,))})", lambda: f"np.array([{e(())}, {e(())}, {e(())}])",
                   lambda: f"np.concatenate([{e((2,))}, np.array([{e(())}])])", lambda: f"np.cumsum({e((3,))})",
                   lambda: f"({e((2, 3))})[{rng.randrange(2)}]"],
            (2, 3): [lambda: f"np.outer({e((2,))}, {e((3,))})", lambda: f"np.stack([{e((3,))}, {e((3,))}])",
                     lambda: f"np.vstack([{e((3,))}, {e((3,))}])", lambda: f"({e((3,))}) * ({e((2, 3))})",
                     lambda: f"np.reshape({e((3,))} * {e(())}, (1, 3)) + {e((2, 3))}",
                     lambda: f"np.where({e((2, 3))} > {_lit(rng, -0.5, 0.5)}, {e((2, 3))}, {e((2, 3))})"],
        }
        return rng.choice(forms[shape])()

    def cond_expr(self, shape: Shape, scope: Scope, d: int) -> str:
        c = self.condition(scope, d)
        return f"({self.expr(shape, scope, d)} if {c} else {self.expr(shape, scope, d)})"

    def condition(self, scope: Scope, d: int) -> str:
        rng = self.rng
        lhs = self.expr((), scope, min(d, 2))
        op = rng.choice(["<", ">", ">=", "<="])
        return f"{lhs} {op} {_lit(rng, -0.8, 0.8)}"

    def call(self, shape: Shape, scope: Scope, d: int) -> str | None:
        fits = [h for h in self.helpers if h.out == shape]
        if not fits:
            return None
        h = self.rng.choice(fits)
        args = [self.expr(s, scope, min(d, 1)) for s in h.params]
        if h.recursive:
            args.append(str(self.rng.randint(0, 3)))
        return f"{h.name}({', '.join(args)})"

    def comprehension(self, shape: Shape, scope: Scope, d: int) -> str | None:
        rng = self.rng
        inner = scope.child()
        if shape == ():
            seqs = self.of((3,), scope) + self.of((2,), scope)
            v = self.fresh("q")
            if seqs and self.chance(0.6):
                inner.vars[v] = Var("arr", ())
                body = self.expr((), inner, min(d, 2))
                cond = f" if {v} > {_lit(rng, -0.5, 0.5)}" if self.chance(0.4) else ""
                return f"sum({body} for {v} in {rng.choice(seqs)}{cond})"
            inner.vars[v] = Var("int")
            body = self.expr((), inner, min(d, 2))
            return f"sum([{body} for {v} in range({rng.randint(1, 3)})])"
        if shape == (3,):
            seqs = self.of((3,), scope)
            if seqs:
                v = self.fresh("q")
                inner.vars[v] = Var("arr", ())
                return f"np.array([{self.expr((), inner, min(d, 2))} for {v} in {rng.choice(seqs)}])"
        return None

    # ---- statements --------------------------------------------------------------------
    def block(self, scope: Scope, n: int, depth: int, ret: Shape | None, in_while: bool = False) -> list[str]:
        lines: list[str] = []
        for _ in range(n):
            lines += self.statement(scope, depth, ret, in_while)
        return lines or ["pass"]

    def statement(self, scope: Scope, depth: int, ret: Shape | None, in_while: bool) -> list[str]:
        rng = self.rng
        pick = rng.random()
        nested = depth > 0
        if pick < 0.22 or not nested:
            return self.assign(scope)
        if pick < 0.32:
            return self.reassign(scope)
        if pick < 0.44:
            return self.time_step(scope) if self.chance(0.25) else self.array_writes(scope)
        if pick < 0.56:
            return self.if_stmt(scope, depth, ret, in_while)
        if pick < 0.68:
            return self.for_stmt(scope, depth, ret)
        if pick < 0.75 and self.loop_depth == 0:
            return self.while_stmt(scope, depth, ret)
        if pick < 0.84:
            return self.container(scope)
        if pick < 0.88 and ret is not None and (self.loop_depth == 0 or in_while):
            c = self.condition(scope, 2)
            return [f"if {c}:", f"    return {self.expr(ret, scope, 2)}"]
        if pick < 0.92 and in_while:
            return [f"if {self.condition(scope, 1)}:", f"    {rng.choice(['break', 'continue'])}"]
        if pick >= 0.95:
            return self.try_stmt(scope, depth, ret, in_while)
        return self.assign(scope)

    def try_stmt(self, scope: Scope, depth: int, ret: Shape | None, in_while: bool) -> list[str]:
        """`try` whose block calls `checked(v, limit)`, which raises ValueError where v > limit
        (at the top of the block or in an `if` of it), with an `except` and maybe `else`/`finally`.
        Names the block binds are not used after it (they may be unbound there)."""
        rng = self.rng
        self.uses_checked = True
        body_scope = scope.child()
        lines = self.block(body_scope, rng.randint(0, 1), depth - 1, ret, in_while)
        check = [f"{self.fresh()} = checked({self.expr((), body_scope, 2)}, {_lit(rng, -0.8, 0.8)})"]
        if self.chance(0.3):
            check = [f"if {self.condition(body_scope, 1)}:", *_indent(check)]
        lines = [line for line in lines if line != "pass"] + check
        after = self.block(body_scope, rng.randint(0, 1), depth - 1, ret, in_while)
        lines += [line for line in after if line != "pass"]
        out = ["try:", *_indent(lines), "except ValueError:"]
        out += _indent(self.block(scope.child(), rng.randint(1, 2), depth - 1, ret, in_while))
        for clause in ("else", "finally"):
            if self.chance(0.3):
                out += [f"{clause}:", *_indent(self.block(scope.child(), 1, depth - 1, ret, in_while))]
        return out

    def _bind(self, scope: Scope, name: str, value: str, var: Var) -> None:
        """Record `name = value`; a value that may share memory with another name makes both read-only."""
        m = VIEW.match(value)
        scope.vars[name] = var
        scope.writable.discard(name)
        if m and m.group(1) in scope.vars:
            scope.writable.discard(m.group(1))
        elif var.kind == "arr" and var.shape and not m:
            scope.writable.add(name)

    def assign(self, scope: Scope) -> list[str]:
        shape = self.rng.choice(SHAPES)
        name = self.fresh()
        value = self._unshared(self.expr(shape, scope, 3), shape)
        self._bind(scope, name, value, Var("arr", shape))
        return [f"{name} = {value}"]

    def reassign(self, scope: Scope) -> list[str]:
        rng = self.rng
        names = [n for n, v in scope.vars.items() if v.kind == "arr"]
        if not names:
            return self.assign(scope)
        name = rng.choice(names)
        shape = scope.vars[name].shape
        if self.chance(0.5):
            op = rng.choice(["+=", "-=", "*="])
            rhs_shape = shape if self.chance(0.6) else ()
            value = self.expr(rhs_shape, scope, 2)
            if op == "*=":
                value = f"(0.8 + 0.3 * np.tanh({value}))"
            if shape and name not in scope.writable:
                return [f"{name} = {name} {op[0]} {value}"]
            return [f"{name} {op} {value}"]
        value = self._unshared(self.expr(shape, scope, 2), shape)
        self._bind(scope, name, value, Var("arr", shape))
        return [f"{name} = {value}"]

    def _unshared(self, value: str, shape: Shape) -> str:
        """Inside a loop, a name bound to another array (or a view of one) would hold it while a
        write earlier in the body changes it on the next trip, which s2sad refuses: bind a copy."""
        if self.loop_depth > 0 and shape and VIEW.match(value):
            return f"{value}.copy()"
        return value

    def array_writes(self, scope: Scope) -> list[str]:
        rng = self.rng
        lines = []
        targets = [n for n in scope.writable if scope.vars.get(n, Var("x")).kind == "arr"]
        if targets and self.chance(0.6):
            name = rng.choice(sorted(targets))
        else:
            name = self.fresh("w")
            shape = rng.choice([(3,), (2, 3), (2,)])
            dims = shape[0] if len(shape) == 1 else shape
            start = rng.choice([f"np.zeros({dims})", f"np.ones({dims})", f"({self.expr(shape, scope, 2)}).copy()"])
            lines.append(f"{name} = {start}")
            scope.vars[name] = Var("arr", shape)
            scope.writable.add(name)
        shape = scope.vars[name].shape
        for _ in range(rng.randint(1, 3)):
            lines += self._write(name, shape, scope)
        return lines

    def time_step(self, scope: Scope) -> list[str]:
        """A loop that steps an array with a fresh buffer per step: `w = np.zeros_like(u)`,
        writes into `w`, `u = w` (the binding moves), then writes into `u`, which go into `w`'s
        object; `w` is made anew before it is read again, and not read after the loop."""
        rng = self.rng
        names = [n for n, v in scope.vars.items() if v.kind == "arr" and v.shape]
        if not names:
            return self.array_writes(scope)
        name = rng.choice(names)
        shape = scope.vars[name].shape
        i, buffer = self.fresh("i"), self.fresh("w")
        inner = scope.child()
        inner.vars[i] = Var("int")
        inner.vars[buffer] = Var("arr", shape)
        inner.writable.add(buffer)
        self.loop_depth += 1
        body = [f"{buffer} = np.zeros_like({name})"]
        for _ in range(rng.randint(1, 2)):
            body += self._write(buffer, shape, inner)
        body.append(f"{name} = {buffer}")
        del inner.vars[buffer]  # a read of the old name after a write into `name` would see the write
        inner.writable.add(name)
        body += self._write(name, shape, inner)
        self.loop_depth -= 1
        return [f"for {i} in range({rng.randint(1, 3)}):", *_indent(body)]

    def _write(self, name: str, shape: Shape, scope: Scope) -> list[str]:
        rng = self.rng
        op = rng.choice(["=", "+=", "="])
        if shape == (2, 3):
            forms = [(f"[{rng.randrange(2)}, {rng.randrange(3)}]", ()), (f"[{rng.randrange(2)}]", (3,)),
                     (f"[:, {rng.randrange(3)}]", (2,)), (f"[{rng.randrange(2)}, 1:]", (2,))]
        else:
            n = shape[0]
            forms = [(f"[{rng.randrange(n)}]", ()), ("[0:2]", (2,)), ("[1:]", (n - 1,)) if n == 3 else ("[:]", (2,))]
        if self.chance(0.25) and self.loop_depth == 0:
            i = self.fresh("i")
            inner = scope.child()
            inner.vars[i] = Var("int")
            bound = shape[0]
            index = f"[{i}]" if len(shape) == 1 else f"[{i}, {rng.randrange(3)}]"
            return [f"for {i} in range({bound}):", f"    {name}{index} {op} {self.expr((), inner, 2)}"]
        index, rhs = rng.choice(forms)
        return [f"{name}{index} {op} {self.expr(rhs, scope, 2)}"]

    def if_stmt(self, scope: Scope, depth: int, ret: Shape | None, in_while: bool) -> list[str]:
        lines = [f"if {self.condition(scope, 2)}:"]
        lines += _indent(self.block(scope.child(), self.rng.randint(1, 2), depth - 1, ret, in_while))
        for _ in range(self.rng.choice([0, 0, 1])):
            lines.append(f"elif {self.condition(scope, 2)}:")
            lines += _indent(self.block(scope.child(), 1, depth - 1, ret, in_while))
        if self.chance(0.5):
            lines.append("else:")
            lines += _indent(self.block(scope.child(), self.rng.randint(1, 2), depth - 1, ret, in_while))
        return lines

    def for_stmt(self, scope: Scope, depth: int, ret: Shape | None) -> list[str]:
        rng = self.rng
        inner = scope.child()
        pick = rng.random()
        arrays3 = self.of((3,), scope)
        mats = self.of((2, 3), scope)
        lists = [n for n, v in scope.vars.items() if v.kind == "list"]
        dicts = [n for n, v in scope.vars.items() if v.kind == "dict"]
        i = self.fresh("i")
        if pick < 0.15 and arrays3:
            header = f"for {i} in {rng.choice(arrays3)}:"
            inner.vars[i] = Var("arr", ())
        elif pick < 0.25 and mats:
            header = f"for {i} in {rng.choice(mats)}:"
            inner.vars[i] = Var("arr", (3,))
        elif pick < 0.35 and arrays3:
            k = self.fresh("k")
            header = f"for {k}, {i} in enumerate({rng.choice(arrays3)}):"
            inner.vars[i] = Var("arr", ())
            inner.vars[k] = Var("int")
        elif pick < 0.45 and len(arrays3) >= 1:
            j = self.fresh("j")
            header = f"for {i}, {j} in zip({rng.choice(arrays3)}, {rng.choice(arrays3)}):"
            inner.vars[i] = Var("arr", ())
            inner.vars[j] = Var("arr", ())
        elif pick < 0.55 and lists:
            lst = rng.choice(lists)
            header = f"for {i} in {lst}:"
            inner.vars[i] = Var("arr", scope.vars[lst].shape)
        elif pick < 0.62 and dicts:
            dct = rng.choice(dicts)
            key = self.fresh("key")
            int_keys = isinstance(scope.vars[dct].keys[0], int)
            inner.vars[key] = Var("int" if int_keys else "key")
            inner.vars[i] = Var("arr", scope.vars[dct].shape)
            header = [f"for {key} in {dct}:", f"    {i} = {dct}[{key}]"]
        else:
            a, b = rng.choice([(0, 2), (0, 3), (1, 3), (0, 1)])
            header = f"for {i} in range({a}, {b}):" if a else f"for {i} in range({b}):"
            inner.vars[i] = Var("int")
        self.loop_depth += 1
        skip = [f"if {self.condition(inner, 1)}:", "    continue"] if self.chance(0.15) else []
        body = skip + self.block(inner, rng.randint(1, 3), depth - 1, ret)
        self.loop_depth -= 1
        head = header if isinstance(header, list) else [header]
        return [head[0], *head[1:], *_indent(body)]

    def while_stmt(self, scope: Scope, depth: int, ret: Shape | None) -> list[str]:
        rng = self.rng
        k = self.fresh("k")
        acc = self.fresh("s")
        lines = [f"{k} = 0", f"{acc} = {self.expr((), scope, 2)}"]
        scope.vars[acc] = Var("arr", ())
        inner = scope.child()
        inner.vars[k] = Var("int")
        limit = rng.randint(1, 4)
        cond = f"{k} < {limit}" + (f" and {acc} < {_lit(rng, 0.5, 2.0)}" if self.chance(0.7) else "")
        self.loop_depth += 1
        body = [f"{k} += 1", f"{acc} = {acc} + {_lit(rng, 0.1, 0.6)} * np.tanh({self.expr((), inner, 2)})"]
        body += self.block(inner, rng.randint(0, 2), depth - 1, ret, in_while=True)
        self.loop_depth -= 1
        return [*lines, f"while {cond}:", *_indent(body)]

    def container(self, scope: Scope) -> list[str]:
        rng = self.rng
        pick = rng.random()
        shape = rng.choice([(), (), (3,)])
        name = self.fresh("c")
        if pick < 0.3:
            n = rng.randint(2, 4)
            i = self.fresh("i")
            inner = scope.child()
            inner.vars[i] = Var("int")
            item = self.expr(shape, inner, 2)
            if self.chance(0.3):  # a comprehension makes a fresh list, which may be written into
                self._freeze(scope, [item])
                lines = [f"{name} = [{item} for {i} in range({n})]"]
                if self.chance(0.5):
                    lines.append(f"{name}[{rng.randrange(n)}] = {self.expr(shape, scope, 2)}")
            else:
                lines = [f"{name} = []", f"for {i} in range({n}):", f"    {name}.append({item})"]
            if self.chance(0.4):
                p = self.fresh()
                if self.chance(0.7):
                    lines.append(f"{p} = {name}.pop()")
                    scope.vars[p] = Var("arr", shape)
                else:
                    lines.append(f"{name}.pop()")
                n -= 1
            scope.vars[name] = Var("list", shape, length=n)
            return lines
        if pick < 0.45:
            items = [self.expr(shape, scope, 2) for _ in range(rng.randint(1, 3))]
            scope.vars[name] = Var("list", shape, length=len(items))
            self._freeze(scope, items)
            return [f"{name} = [{', '.join(items)}]"]
        if pick < 0.6:
            shapes = tuple(rng.choice(SHAPES) for _ in range(rng.randint(2, 3)))
            items = [self.expr(s, scope, 2) for s in shapes]
            self._freeze(scope, items)
            if self.chance(0.5):
                names = [self.fresh() for _ in shapes]
                for n, s in zip(names, shapes):
                    scope.vars[n] = Var("arr", s)
                return [f"{', '.join(names)} = {', '.join(items)}"]
            scope.vars[name] = Var("tuple", items=shapes)
            if self.chance(0.5):
                names = [self.fresh() for _ in shapes]
                for n, s in zip(names, shapes):
                    scope.vars[n] = Var("arr", s)
                return [f"{name} = ({', '.join(items)},)", f"{', '.join(names)} = {name}"]
            return [f"{name} = ({', '.join(items)},)"]
        if pick < 0.85:
            keys = rng.sample(["a", "b", "c"], rng.randint(1, 3))
            items = [self.expr(shape, scope, 2) for _ in keys]
            self._freeze(scope, items)
            lines = [f"{name} = {{{', '.join(f'{k!r}: {v}' for k, v in zip(keys, items))}}}"]
            if self.chance(0.5):
                key = rng.choice(["a", "d"])
                lines.append(f"{name}[{key!r}] = {self.expr(shape, scope, 2)}")
                keys = sorted(set(keys) | {key})
            scope.vars[name] = Var("dict", shape, keys=tuple(keys))
            return lines
        i = self.fresh("i")
        inner = scope.child()
        inner.vars[i] = Var("int")
        n = rng.randint(1, 3)
        scope.vars[name] = Var("dict", shape, keys=tuple(range(n)))
        return [f"{name} = {{{i}: {self.expr(shape, inner, 2)} for {i} in range({n})}}"]

    def _freeze(self, scope: Scope, items: list[str]) -> None:
        for item in items:
            m = VIEW.match(item)
            if m:
                scope.writable.discard(m.group(1))

    # ---- functions ---------------------------------------------------------------------
    def function(self, name: str, params: list[tuple[str, Shape]], out: Shape, n: int) -> list[str]:
        scope = Scope()
        for p, s in params:
            scope.vars[p] = Var("arr", s)
            scope.params.add(p)
            if s:
                scope.writable.add(p)
        body = self.block(scope, n, 2, out)
        body.append(f"return {self.expr(out, scope, 3)} + {self.anchor(scope, out)}")
        return [f"def {name}({', '.join(p for p, _ in params)}):", *_indent(body)]

    def anchor(self, scope: Scope, out: Shape) -> str:
        """A bounded term of the last values computed, so that the result depends on them."""
        names = [n for n, v in scope.vars.items() if v.kind == "arr"][-3:]
        name = self.rng.choice(names)
        shape = scope.vars[name].shape
        term = f"np.tanh({name})" if shape in (out, ()) else f"np.sum(np.tanh({name}))"
        return f"{_lit(self.rng, 0.2, 0.6)} * {term}"

    def recursive(self, name: str, shape: Shape) -> list[str]:
        scope = Scope()
        scope.vars["p"] = Var("arr", shape)
        base = self.expr((), scope, 2)
        step = self.expr((), scope, 2)
        combine = self.rng.choice([f"{step} + 0.5 * np.tanh({name}(p, n - 1))",
                                   f"{step} * np.cos({name}(p, n - 1))",
                                   f"np.sin({step} - {name}(p, n - 1))"])
        return [f"def {name}(p, n):", "    if n == 0:", f"        return {base}", f"    return {combine}"]

    def program(self) -> Program:
        rng = self.rng
        chunks: list[list[str]] = []
        for h in range(rng.choice([0, 1, 1, 2])):
            name = f"h{h}"
            if self.chance(0.3):
                shape = rng.choice([(), (3,)])
                chunks.append(self.recursive(name, shape))
                self.helpers.append(Helper(name, [shape], (), recursive=True))
                continue
            params = [rng.choice(SHAPES) for _ in range(rng.randint(1, 2))]
            out = rng.choice([(), (), (3,)])
            chunks.append(self.function(name, [(f"a{i}", s) for i, s in enumerate(params)], out, rng.randint(1, 3)))
            self.helpers.append(Helper(name, params, out))
        shapes = [rng.choice(ARG_SHAPES) for _ in range(rng.randint(1, 3))]
        vector = self.chance(0.25)
        out = rng.choice([(3,), (2,), (2, 3)]) if vector else ()
        names = ["x", "y", "z"][: len(shapes)]
        chunks.append(self.function("f", list(zip(names, shapes)), out, rng.randint(2, 6)))
        if self.uses_checked:
            chunks.insert(0, CHECKED)
        source = "import math\n\nimport numpy as np\n\n\n" + "\n\n\n".join("\n".join(c) for c in chunks) + "\n"
        nrng = np.random.default_rng(self.seed)
        args = tuple(float(round(nrng.uniform(-1.2, 1.2), 3)) if s == () else np.round(nrng.uniform(-1.2, 1.2, s), 3)
                     for s in shapes)
        return Program(self.seed, source, args, vector)


CHECKED = ["def checked(v, limit):", "    if v > limit:", "        raise ValueError('over the limit')", "    return v"]
"""The helper a generated `try` block calls: it raises where its value is over the limit."""


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def generate(seed: int) -> Program:
    """The program of `seed` (always the same one)."""
    return Generator(seed).program()
