"""Split a `vjp`-form derivative into its two sweeps: `f_fwd` and `f_bwd`.

`f_fwd(x, ...)` runs the primal sweep and returns `(out, residuals)`: every value the adjoint
sweep reads (the tape among them). `f_bwd(residuals, bout)` runs the adjoint sweep and returns
one cotangent per differentiated parameter. Callers use the pair for calls to user functions,
and `s2sad.vjp` for its pullback.
"""

from __future__ import annotations

from dataclasses import dataclass

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Var
from s2sad.core.naming import Namer, runtime_ref
from s2sad.front.lower_expr import getitem_ref


@dataclass(frozen=True)
class Sweeps:
    """A `vjp`-form derivative split in two."""

    fwd: ir.Function
    """`f_fwd(x, ...) -> (out, residuals)`: the primal sweep."""
    bwd: ir.Function
    """`f_bwd(residuals, bout)`: the adjoint sweep."""
    residuals: tuple[str, ...]
    """The names of the values in `residuals`, in order (the tape among them)."""


def split(fn: ir.Function, namer: Namer) -> Sweeps:
    at = next(i for i, s in enumerate(fn.body) if isinstance(s, Assign) and isinstance(s.value, Call)
              and s.value.op.value is runtime.receive)
    prefix, marker, suffix = fn.body[:at], fn.body[at], fn.body[at + 1:]
    out = marker.value.args[0]
    defined = set(fn.params) | ir.assigned(prefix)
    read = {n for s in ir.walk(suffix) for n in ir.reads(s)} | {
        a.name for s in ir.walk(suffix) if isinstance(s, Assign) for a in ir.atoms_of(s.value) if isinstance(a, Var)}
    needed = sorted(read & defined)
    top = {s.target.name for s in prefix if isinstance(s, Assign)} | set(fn.params)
    residuals = Var(namer.fresh("residuals"))
    fwd_body = [Assign(Var(n), Const(None)) for n in needed if n not in top]
    fwd_body += prefix + [Assign(residuals, Pack(tuple(Var(n) for n in needed)) if needed else Const(()))]
    fwd_body.append(ir.Return(Pack((out, residuals))))
    base = fn.name.removesuffix("_vjp")
    fwd = ir.Function(base + "_fwd", list(fn.params), fwd_body, fn.filename, fn.firstline, fn.lines, set(fn.temps),
                      dict(fn.defaults))
    mutated = ir.written_into(suffix)
    unpack = [Assign(Var(n), Call(getitem_ref(), (residuals, Const(i)))) for i, n in enumerate(needed)]
    for at, name in reversed(list(enumerate(needed))):
        if name in mutated:  # the adjoint sweep writes into its own copy: the residuals stay reusable
            helper = "copy_list" if name == fn.tape else "copy_value"
            whole = Var(namer.temp())
            unpack[at:at + 1] = [Assign(whole, Call(getitem_ref(), (residuals, Const(at)))),
                                 Assign(Var(name), Call(runtime_ref(helper), (whole,)))]
    suffix = _own_popped(suffix, mutated, namer)
    bwd = ir.Function(base + "_bwd", [residuals.name, marker.target.name], unpack + suffix, fn.filename,
                      fn.firstline, fn.lines, set(fn.temps))
    return Sweeps(fwd, bwd, tuple(needed))


def _own_popped(body: list[ir.Stmt], mutated: set[str], namer: Namer) -> list[ir.Stmt]:
    """A value taken back from the tape that the sweep then writes into is copied first: the
    tape's copy is shallow, and its items belong to the residuals. (`t_popped = tape.pop()`,
    `t = copy_value(t_popped)`: no statement reads the name it writes.)"""
    out: list[ir.Stmt] = []
    for stmt in body:
        if (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.op.value is runtime.tape_pop
                and stmt.target.name in mutated):
            popped = Var(namer.fresh(f"{stmt.target.name}_popped"))
            out += [Assign(popped, stmt.value, stmt.line),
                    Assign(stmt.target, Call(runtime_ref("copy_value"), (popped,)), stmt.line)]
            continue
        out.append(ir.rebuild(stmt, lambda block: _own_popped(block, mutated, namer)))
    return out
