"""In-place writes must not go through an alias: part of the lowering's fence.

The transforms treat every name as its own value, so `y = x; y[0] = 0.0` (which changes `x`
too) would give a silently wrong derivative. So a variable written in place (`y[i] = v`,
`y.append(v)`) must hold a value the function made itself: an array or list it created, or a
computed result. A parameter written in place is copied on entry (so derivative code never
modifies the caller's arrays); anything else that may share memory is an error with a fix.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Var
from s2sad.core.naming import Namer, runtime_ref
from s2sad.errors import Location, UnsupportedSyntax
from s2sad.rules.registry import facts, lookup


def returns_view(op: object) -> bool:
    """Whether `op`'s result may share memory with its first argument: the op's rule says so
    (`Facts.view`)."""
    return facts(op).view


def written_in_place(body: list[ir.Stmt]) -> dict[str, int]:
    """Each name mutated in place, with the first line that does it."""
    out: dict[str, int] = {}
    for stmt in ir.walk(body):
        if isinstance(stmt, Assign) and ir.is_inplace(stmt.value) and isinstance(stmt.value.args[0], Var):
            out.setdefault(stmt.value.args[0].name, stmt.line)
    return out


def shared(stmt: Assign) -> bool:
    """Whether the value this statement binds may share memory with another value."""
    value = stmt.value
    if isinstance(value, (Var, ir.Ref)):
        return True
    return isinstance(value, Call) and returns_view(value.op.value)


def copy_views(body: list[ir.Stmt], mutated: set[str], namer: Namer, risky: set[int],
               where: Callable[[int], tuple], nested: set[str] | None = None) -> list[ir.Stmt]:
    """`t = x[...]`, `x.T`, `x.reshape(...)` (any op whose rule says it returns a view) of an
    array written in place reads a copy: a view (`x[1:3]`, a row `x[i]` of a matrix, `x.T`)
    would change with `x`, which the derivative would not follow. A copy is what the code means
    while `t` is used before `x` is written again; where `t` is used after that (`risky`), the
    read is checked when it runs instead: a view is an error (and, read from a list or dict whose
    items are written into, `x[i][j] = v`, an item that is a list, dict or array). The sequence a `for` loop
    iterates over is `x` itself, not a view: if the loop writes into it, an array or a list is
    refused when the loop starts (`where(line)` locates the error)."""
    out: list[ir.Stmt] = []
    if nested is None:  # the names whose items are written into, `x[i][j] = v`
        nested = {s.value.args[0].name for s in ir.walk(body) if isinstance(s, Assign) and isinstance(s.value, Call)
                  and s.value.op.value is runtime.item_to_write and isinstance(s.value.args[0], Var)}
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: copy_views(block, mutated, namer, risky, where, nested))
        elif stmt.sid in risky and stmt.value.op.value is runtime.as_sequence:
            checked = Var(namer.temp())
            out.append(Assign(checked, Call(runtime_ref("unwritten_sequence"),
                                            (stmt.value.args[0], ir.Const(where(stmt.line)))), stmt.line))
            stmt = Assign(stmt.target, Call(stmt.value.op, (checked,)), stmt.line)
        elif _reads_view(stmt, mutated):
            view = Var(namer.temp())
            out.append(Assign(view, stmt.value, stmt.line))
            owner = stmt.value.args[0]
            helper = "copy_value" if stmt.sid not in risky else "not_an_item" if owner.name in nested else "not_a_view"
            stmt = Assign(stmt.target, Call(runtime_ref(helper), (view, owner) if helper == "not_an_item" else (view,)),
                          stmt.line)
        out.append(stmt)
    return out


def _used_after_writes(body: list[ir.Stmt], mutated: set[str], result: str | None = None,
                       sequences: frozenset[str] = frozenset()) -> set[int]:
    """Reads `t = x[...]` (or another view) of a written array whose `t` is used after a write
    to `x` that comes between the read and the use: later in the same pass, or, for a use
    earlier in a loop body (it sees the previous trip's `t`), from the read to the end of the
    loop and from its start to the use. A use of `t` is a use of anything that holds it or a
    part of it (`c = (m, t)`, `u = c[1]`, `items.append(t)`). `result` holds what an early
    `return` returns: nothing after its binding runs, so it is no later use."""
    flat = _flatten(body)
    risky: set[int] = set()
    for i, (stmt, loops) in enumerate(flat):
        if not _reads_view(stmt, mutated):
            continue
        owner = stmt.value.args[0]
        names = _holders_of(flat, stmt.target.name, owner.name, sequences) - {result}
        writes = [w for w, (s, _) in enumerate(flat) if isinstance(s, Assign) and ir.is_inplace(s.value)
                  and s.value.args[0] == owner]
        for u, (use, use_loops) in enumerate(flat):
            if u == i or not names & _reads_of(use):
                continue
            if u > i:
                # a use in a loop the read is not in sees, from the second trip on, the writes
                # that come after it in that loop
                outer = [span for span in use_loops if span not in loops]
                between = any(i < w < u or outer and u < w <= outer[0][1] for w in writes)
            else:
                common = [span for span in loops if span in use_loops]
                if not common:
                    continue
                start, end = common[-1]
                between = any(i < w <= end or start <= w < u for w in writes)
            if between:
                risky.add(stmt.sid)
    return risky


def _views_of(flat: list, name: str) -> set[str]:
    """`name` and every name bound to a view of it or to itself (`r = t[0]`, `u = r.T`, `v = u`):
    a use of any of them is a use of `name`'s memory."""
    names = {name}
    while more := {s.target.name for s, _ in flat if isinstance(s, Assign) and s.target.name not in names
                   and (isinstance(s.value, Var) and s.value.name in names or isinstance(s.value, Call)
                        and s.value.args and isinstance(s.value.args[0], Var) and s.value.args[0].name in names
                        and returns_view(s.value.op.value) and not ir.is_inplace(s.value))}:
        names |= more
    return names


def _reads_of(stmt) -> set[str]:
    if isinstance(stmt, Assign):
        return {a.name for a in ir.atoms_of(stmt.value) if isinstance(a, Var)}
    return ir.reads(stmt) if isinstance(stmt, (ir.Return, *ir.COMPOUND)) else set()


def _reads_view(stmt: ir.Stmt, mutated: set[str]) -> bool:
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.args
            and returns_view(stmt.value.op.value)) or ir.is_inplace(stmt.value):
        return False
    owner = stmt.value.args[0]
    return isinstance(owner, Var) and owner.name in mutated


def check(fn: ir.Function, namer: Namer, augmented: dict[int, tuple] | None = None,
          result: str | None = None) -> ir.Function:
    """Copy parameters written in place on entry; reject writes through possible aliases; read
    slices of arrays that are written in place as copies; guard `y += v` where `y` may share
    memory (see `guard_augmented`). `result`: the name an early `return` binds, if any."""
    if augmented:
        fn.body = guard_augmented(fn, augmented, namer)
    deletions = {s.sid for s in ir.walk(fn.body) if isinstance(s, Assign) and isinstance(s.value, Call)
                 and s.value.op.value is runtime.without}
    if deletions:
        refuse_shared_deletions(fn, deletions)
    mutated = written_in_place(fn.body)
    fn.body = _check_aliases_before_writes(fn, mutated, namer, result)
    attributes_only = {n for n in mutated if all(
        s.value.op.value is runtime.set_attribute for s in ir.walk(fn.body)
        if isinstance(s, Assign) and ir.is_inplace(s.value) and s.value.args[0] == Var(n))}
    contents = set(mutated) - attributes_only  # rebinding an attribute changes no array's contents
    risky = _used_after_writes(fn.body, contents, result, _sequences(fn))
    fn.body = copy_views(fn.body, contents, namer, risky,
                         lambda line: _where(fn, line))
    fn.temps |= namer.temps
    fn.body = _copy_fresh_bindings(fn, mutated)
    fn.body = _check_writes_through_shared(fn, mutated, namer)
    fn.temps |= namer.temps
    copies: list[ir.Stmt] = []
    written = [p for p in fn.params if p in mutated and p not in attributes_only]
    for param in written:
        for other in (q for q in fn.params if q != param and q not in written[:written.index(param)]):
            where = ir.Const((*_where(fn, fn.firstline), param, other))
            copies.append(Assign(Var(namer.temp()), Call(runtime_ref("not_shared"), (Var(param), Var(other), where)),
                                 fn.firstline))
    for param in written:
        private = Var(f"{param}_copy")
        copies += [Assign(private, Call(runtime_ref("copy_value"), (Var(param),)), fn.firstline),
                   Assign(Var(param), private, fn.firstline)]
        fn.temps.add(private.name)
    fn.temps |= namer.temps
    fn.body = copies + fn.body
    return fn


def _copy_fresh_bindings(fn: ir.Function, mutated: dict[str, int]) -> list[ir.Stmt]:
    """`y = t`, with `t` a temporary computed for it and `y` written in place later, binds `y` to
    a copy of `t`: `t` is the output of an op whose adjoint may read it (`t = np.exp(y)`, or a
    branch of `a if c else b`), and a write into `y` must not change it."""
    if not mutated:
        return fn.body  # nothing is written in place
    fresh = _fresh_temps(fn)

    def fix(body: list[ir.Stmt]) -> list[ir.Stmt]:
        out = []
        for stmt in body:
            if isinstance(stmt, ir.COMPOUND):
                stmt = ir.rebuild(stmt, fix)
            elif (isinstance(stmt, Assign) and stmt.target.name in mutated and isinstance(stmt.value, Var)
                  and fresh.get(stmt.value.name, {""}) <= {stmt.target.name}):  # (a branch `x` stays shared)
                stmt = Assign(stmt.target, Call(runtime_ref("copy_value"), (stmt.value,)), stmt.line)
            out.append(stmt)
        return out

    return fix(fn.body)


def _where(fn: ir.Function, line: int) -> tuple:
    """The user's (file, line, column, text) of a statement that starts at `line`."""
    text = fn.lines.get(line, "")
    return (fn.filename, line, len(text) - len(text.lstrip()), text)


def _check_writes_through_shared(fn: ir.Function, mutated: dict[str, int], namer: Namer) -> list[ir.Stmt]:
    """A binding of a written name to a value that may share memory (`y = x`, `y = x[1:]`, a
    loop item) from which an in-place write of the name can be reached before it is bound again
    writes into the shared object. Where no other name can see that object afterwards (`u =
    u_new` in a time step whose `u_new` is made anew before it is read again: the binding moves,
    nothing is shared), the name is bound to a copy, which is what Python's name holds; where
    another name (or the caller, or a later trip of the loop) may see the write, it is an error.
    A binding after the last such write is harmless."""
    if not mutated:
        return fn.body  # nothing is written in place
    fresh = _fresh_temps(fn)
    flat = _flatten(fn.body)
    branches = _branches(fn.body)
    context = (_sources(fn), _sequences(fn))
    moved: set[int] = set()
    for b, (stmt, _) in enumerate(flat):
        if isinstance(stmt, Assign) and stmt.target.name in mutated and not ir.is_inplace(stmt.value):
            if not shared(stmt) or isinstance(stmt.value, Var) and (
                    fresh.get(stmt.value.name, {stmt.value.name}) <= {stmt.target.name}):
                continue  # `y = t` of a computed `t`, or `y = y`: nothing new is shared
        elif not (isinstance(stmt, ir.For) and stmt.target.name in mutated):
            continue
        writes = _writes_through(flat, branches, b)
        if not writes:
            continue
        if isinstance(stmt, ir.For) or not _moves(fn, flat, branches, b, writes, context):
            _reject(fn, stmt, flat[writes[0]][0].line)
        moved.add(stmt.sid)
    return _bind_copies(fn.body, moved, namer)


def _writes_through(flat: list, branches: dict[int, frozenset], b: int) -> list[int]:
    """The in-place writes of the name the statement at `b` binds that can follow it before the
    name is bound again (for a loop's target: any write in the loop)."""
    stmt, loops = flat[b]
    name = stmt.target.name
    out = []
    for w, (write, _) in enumerate(flat):
        if not (isinstance(write, Assign) and ir.is_inplace(write.value) and write.value.args[0] == Var(name)):
            continue
        inside = isinstance(stmt, ir.For) and _loop_holds(flat, b, w)
        if inside or (w > b or any(lo <= w <= hi for lo, hi in loops)) and not _rebound_between(
                flat, branches, name, b, w) and not _exclusive(flat, branches, b, w):
            out.append(w)
    return out


def _moves(fn: ir.Function, flat: list, branches: dict[int, frozenset], b: int, writes: list[int],
           context: tuple) -> bool:
    """Whether the binding at `b` may take a copy: it binds a name or a view of one (not a global),
    whose object is no parameter's (the caller would see the write) and no loop item's, the
    writes change an array's or a list's contents (not an object's attribute), and no other name
    that may hold the object, or a part of it, is read after a write before it is bound again."""
    sources, sequences = context
    stmt = flat[b][0]
    value = stmt.value.args[0] if isinstance(stmt.value, Call) else stmt.value
    if not isinstance(value, Var) or any(
            flat[w][0].value.op.value is runtime.set_attribute for w in writes):
        return False
    owners = sources(value.name, frozenset())
    if owners is None:
        return False
    owners |= {value.name}
    if owners & set(fn.params):
        return False
    elsewhere = [(s, lp) for k, (s, lp) in enumerate(flat) if k != b]
    others = set().union(*(_holders_of(elsewhere, owner, stmt.target.name, sequences) for owner in owners))
    others.discard(stmt.target.name)
    return all(_read_after_write(flat, branches, others, w) is None for w in writes)


def _bind_copies(body: list[ir.Stmt], moved: set[int], namer: Namer) -> list[ir.Stmt]:
    """Each binding in `moved` binds a copy of its value (a view is read first, then copied)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _bind_copies(block, moved, namer))
        elif stmt.sid in moved:
            value = stmt.value
            if isinstance(value, Call):
                value = Var(namer.temp())
                out.append(Assign(value, stmt.value, stmt.line))
            stmt = Assign(stmt.target, Call(runtime_ref("copy_value"), (value,)), stmt.line)
        out.append(stmt)
    return out


def _fresh_temps(fn: ir.Function) -> dict[str, set[str]]:
    """Temporaries of the lowering that are read once and hold a value computed for them
    (`t = y * 0.5`, the right-hand side of `y = y * 0.5`) or, as the branches of
    `(a if c else b)` are lowered, another such temporary or a name: each with the names it may
    be. Binding a name to one shares nothing beyond those names."""
    defs: dict[str, list[ir.Expr]] = {}
    reads: dict[str, int] = {}
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, Assign):
            defs.setdefault(stmt.target.name, []).append(stmt.value)
        for name in _reads_of(stmt):
            reads[name] = reads.get(name, 0) + 1
    fresh = {name: set() for name in defs if name in fn.temps and reads.get(name, 0) == 1}
    changed = True
    while changed:
        changed = False
        for name in list(fresh):
            held = [_computed_or_names(v, fresh) for v in defs[name]]
            if any(h is None for h in held):
                del fresh[name]
                changed = True
            elif (joined := set().union(*held)) != fresh[name]:
                fresh[name] = joined
                changed = True
    return fresh


def _computed_or_names(value: ir.Expr, fresh: dict[str, set[str]]) -> set[str] | None:
    """The names `value` may be: none for a computed result, those of a fresh temporary, the
    name itself for another; None for anything else that may share memory."""
    if isinstance(value, Var):
        return fresh[value.name] if value.name in fresh else {value.name}
    if isinstance(value, Call) and not returns_view(value.op.value) and not ir.is_inplace(value) \
            and value.op.value not in (runtime.make_list, runtime.make_dict, runtime.make_record):
        return set()
    return None


def _flatten(body: list[ir.Stmt], loops: tuple = (), offset: int = 0) -> list[tuple[ir.Stmt, tuple]]:
    """Statements in source order, each with the (first, last) positions of its enclosing loops
    (positions in the whole flattened list; `offset` is where `body` starts in it)."""
    out: list[tuple[ir.Stmt, tuple]] = []
    for stmt in body:
        out.append((stmt, loops))
        if isinstance(stmt, (ir.For, ir.While)):
            start = offset + len(out)
            inner: list[tuple[ir.Stmt, tuple]] = []
            for child in ir.children(stmt):
                inner += _flatten(child, loops + (None,), start + len(inner))
            span = (start, start + len(inner) - 1)
            out += [(s, tuple(span if b is None and k == len(loops) else b for k, b in enumerate(lp)))
                    for s, lp in inner]
        elif isinstance(stmt, (ir.If, ir.Guard)):
            for child in ir.children(stmt):
                out += _flatten(child, loops, offset + len(out))
    return out


def _check_aliases_before_writes(fn: ir.Function, mutated: dict[str, int], namer: Namer,
                                 result: str | None = None, refuse: bool = True) -> list[ir.Stmt]:
    """`a = x` (or `(x, y)`, `[x]`, `items.append(x)`, `d[k] = x`) while `x` is still to be
    written in place: `a` would change with it, which the derivative would not follow (nor would
    the reverse sweep, which may keep `a` for later). Where `a` (and whatever holds it) is only
    read before that write and never written into itself, Python's `a` holds what a copy would
    (`(x if c else y)[0]`, `[x, y]` handed to `np.stack`): `a` is made to hold a copy of `x`.
    Anything else is an error (with `refuse` False, a copy too: see `check_generated`)."""
    flat = _flatten(fn.body)
    branches = _branches(fn.body)
    sequences = _sequences(fn)
    writes = _writes_into_each(flat, mutated)
    names = set(mutated)
    copies: dict[int, set[str]] = {}
    checks: dict[int, tuple] = {}
    for i, (stmt, loops) in enumerate(flat):
        if not isinstance(stmt, Assign):
            continue
        store = ir.is_inplace(stmt.value)
        if store and not refuse:
            continue  # the tape's pushes: the derivative code pushes what it keeps as it is
        held = (_stored(stmt.value) if store else _held(stmt.value)) & names - {stmt.target.name}
        for name in sorted(held):
            holders = _holders_of(flat, stmt.target.name, name, sequences) - {result}
            later = [w for w in writes[name] if (w > i or any(lo <= w <= hi for lo, hi in loops))
                     and not _rebound_between(flat, branches, name, i, w)]
            for w in later if refuse else later[:1]:
                use = _read_after_write(flat, branches, holders, w)
                written = (holders - {stmt.target.name} if store else holders) & names
                if store and _may_copy_on_store(stmt, sequences, fn):
                    checks[stmt.sid] = (name, None if use is None and not written else _where(fn, stmt.line))
                    continue
                if refuse and (use is not None or written):
                    _reject_alias(fn, stmt, name, flat[w][0].line, use)
                copies.setdefault(stmt.sid, set()).add(name)
    return _hold_copies(fn.body, copies, checks, namer)


def _writes_into_each(flat: list[tuple[ir.Stmt, tuple]], names: dict[str, int]) -> dict[str, list[int]]:
    """For each of `names`, the positions in `flat` of the in-place writes into it (one pass)."""
    writes: dict[str, list[int]] = {name: [] for name in names}
    for i, (stmt, _) in enumerate(flat):
        if isinstance(stmt, Assign) and ir.is_inplace(stmt.value) and type(stmt.value.args[0]) is Var and (
                stmt.value.args[0].name in writes):
            writes[stmt.value.args[0].name].append(i)
    return writes


def check_generated(fn: ir.Function, namer: Namer) -> ir.Function:
    """s2sad's own derivative code, differentiated again. Its restores (`y[1] = y_saved`) write
    into the primal arrays after the primal sweep; a name bound to such an array before them
    (`t = y` in a branch of `(y if c else z)`) changes with them, and the derivative of this code
    reads it again in its own reverse sweep. Each such binding holds a copy."""
    fn.body = _check_aliases_before_writes(fn, written_in_place(fn.body), namer, refuse=False)
    fn.temps |= namer.temps
    return fn


def _stored(value: Call) -> set[str]:
    """The names an in-place write stores into a list, dict or object (`items.append(x)`,
    `d[k] = x`, `obj.w = x`): the container then holds that object itself."""
    op = value.op.value
    if op is runtime.list_append or op in (runtime.setitem, runtime.set_attribute) and not _into_an_array(value):
        stored = value.args[-1]
        return {stored.name} if isinstance(stored, Var) else set()
    return set()


def _may_copy_on_store(stmt: Assign, sequences: frozenset[str], fn: ir.Function) -> bool:
    """Whether `into[k] = x` may store into an array (which copies `x`'s values): `into` is not
    surely a list or dict, so which one it is is decided when it runs (`runtime.stored_value`)."""
    if stmt.value.op.value is not runtime.setitem:
        return False
    into = stmt.target.name
    return into not in sequences and not any(
        isinstance(s, Assign) and s.target.name == into and isinstance(s.value, Call)
        and s.value.op.value is runtime.make_dict for s in ir.walk(fn.body))


def _hold_copies(body: list[ir.Stmt], copies: dict[int, set[str]], checks: dict[int, tuple],
                 namer: Namer) -> list[ir.Stmt]:
    """Each statement in `copies` holds a copy of the names given instead of the names; each in
    `checks` (`into[k] = x`, with `x` and where to refuse a list or dict, or None) stores
    `runtime.stored_value(x, into, where)`."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _hold_copies(block, copies, checks, namer))
            out.append(stmt)
            continue
        fresh: dict[str, Var] = {}
        for name in sorted(copies.get(stmt.sid, ())):
            fresh[name] = Var(namer.temp())
            out.append(Assign(fresh[name], Call(runtime_ref("copy_value"), (Var(name),)), stmt.line))
        if stmt.sid in checks:
            name, where = checks[stmt.sid]
            fresh[name] = Var(namer.temp())
            out.append(Assign(fresh[name], Call(runtime_ref("stored_value"), (
                Var(name), stmt.target, ir.Const(where))), stmt.line))
        if fresh:
            stmt = Assign(stmt.target, _replace_store(stmt.value, fresh), stmt.line)
        out.append(stmt)
    return out


def _replace_store(value: ir.Expr, fresh: dict[str, Var]) -> ir.Expr:
    """`value` holding the fresh names instead of the names: for an in-place write, in the
    stored value only (the container and the index stay)."""
    if ir.is_inplace(value):
        return Call(value.op, (*value.args[:-1], _replace_atoms(value.args[-1], fresh)), value.kwargs)
    return _replace_atoms(value, fresh)


def _replace_atoms(value: ir.Expr, fresh: dict[str, Var]) -> ir.Expr:
    def swap(atom):
        return fresh.get(atom.name, atom) if isinstance(atom, Var) else atom
    if isinstance(value, Var):
        return swap(value)
    if isinstance(value, ir.Pack):
        return ir.Pack(tuple(map(swap, value.items)))
    if isinstance(value, Call):
        return Call(value.op, tuple(map(swap, value.args)), tuple((k, swap(a)) for k, a in value.kwargs))
    return value


def _reject_alias(fn: ir.Function, stmt: Assign, name: str, line: int, use: int | None) -> None:
    alias = stmt.target.name
    why = f"before {alias!r} is read (line {use})" if use is not None else f"and {alias!r} is written into"
    raise UnsupportedSyntax(
        f"{alias!r} holds {name!r} itself (line {stmt.line}), and {name!r} is written in place afterwards "
        f"(line {line}) {why}: {alias!r} would change too, which the derivative would not follow",
        Location.of(fn.filename, stmt.line, fn.lines.get(stmt.line, ""), alias), hint=f"hold a copy: {name}.copy()")


def _holders_of(flat: list, alias: str, owner: str, sequences: frozenset[str]) -> set[str]:
    """`alias` and every name that may hold its object or a part of it, anywhere in the function
    (`b = alias`, `(alias, 1)`, `alias[1:]`, `items.append(alias)`, `for e in alias`); not `owner`."""
    names = {alias}
    todo = [alias]
    while todo:
        name = todo.pop()
        for stmt, _ in flat:
            found = _holder(stmt, name, sequences)
            if found is not None and found != owner and found not in names:
                names.add(found)
                todo.append(found)
    return names


def _holder(stmt: ir.Stmt, name: str, sequences: frozenset[str]) -> str | None:
    """The name `stmt` makes hold `name`'s object (or a part of it), if any."""
    if isinstance(stmt, ir.For):
        return stmt.target.name if stmt.iter == Var(name) else None
    if not isinstance(stmt, Assign):
        return None
    value = stmt.value
    if isinstance(value, Call) and value.op.value in runtime.POPS:
        return stmt.target.name if value.args[0] == Var(name) else None  # `item = items.pop()`
    if ir.is_inplace(value):
        held = Var(name) in value.args[1:] and isinstance(value.args[0], Var) and not _into_an_array(value)
        return value.args[0].name if held else None
    if name in _held(value, sequences):
        return stmt.target.name
    if isinstance(value, Call) and value.args and value.args[0] == Var(name) and returns_view(value.op.value):
        return stmt.target.name
    if isinstance(value, Call) and lookup(value.op.value) is None and Var(name) in ir.atoms_of(value):
        return stmt.target.name  # a function of the user's (or another without a rule) may return it
    return None


def _into_an_array(value: Call) -> bool:
    """Whether the in-place write `value` surely copies its values into an array: `w[0, 1:] = v`,
    whose index (a tuple holding a slice) no list or dict takes; the array holds no object of `v`."""
    index = value.args[1] if value.op.value is runtime.setitem and len(value.args) > 2 else None
    return isinstance(index, ir.Const) and isinstance(index.value, tuple) and any(
        isinstance(item, slice) for item in index.value)


def _read_after_write(flat: list, branches: dict[int, frozenset], names: set[str], w: int) -> int | None:
    """The line of a read of one of `names` that may run after the write at `w` and before the
    name is bound again (later in the same pass, or through the back edge of a loop holding both);
    a loop that reads one of them in its header and holds `w` counts too. None where there is none."""
    for u, (stmt, _) in enumerate(flat):
        for name in sorted(_reads_of(stmt) & names):
            if isinstance(stmt, (ir.For, ir.While)) and _loop_holds(flat, u, w):
                return stmt.line
            if u <= w and not [span for span in flat[w][1] if span in flat[u][1]] or _exclusive(flat, branches, w, u):
                continue
            if not _rebound_between(flat, branches, name, w, u):
                return stmt.line
    return None


def _exclusive(flat: list, branches: dict[int, frozenset], a: int, b: int) -> bool:
    """Whether the statements at `a` and `b` are in different arms of one `if` (as the branches
    of `(f(x) if c else x)` are) that no loop holding both runs again: one never runs after the other."""
    arms_a, arms_b = branches[flat[a][0].sid], branches[flat[b][0].sid]
    if not any((owner, 1 - arm) in arms_b for owner, arm in arms_a):
        return False
    return not [span for span in flat[a][1] if span in flat[b][1]]


def _loop_holds(flat: list, u: int, w: int) -> bool:
    """Whether the loop statement at `u` holds position `w`."""
    return any(span[0] == u + 1 and span[0] <= w <= span[1] for span in flat[w][1])


def _branches(body: list[ir.Stmt], inside: frozenset = frozenset()) -> dict[int, frozenset]:
    """Each statement's enclosing `if` arms, as (id of the `if`, 0 for its body or 1 for its
    `else`): a statement in one arm does not run before one in the other."""
    out: dict[int, frozenset] = {}
    for stmt in body:
        out[stmt.sid] = inside
        for arm, child in enumerate(ir.children(stmt)):
            arms = isinstance(stmt, (ir.If, ir.Guard))  # a guarded block may stop before any statement
            out.update(_branches(child, inside | {(stmt.sid, arm)} if arms else inside))
    return out


def _rebound_between(flat: list, branches: dict[int, frozenset], name: str, i: int, w: int) -> bool:
    """Whether `name` is surely bound to another value on the way from position i to a later
    write at w (for w < i: through the back edge of the innermost loop holding both): the write
    then goes into a new object, not the one held at i. A binding counts where it runs whenever
    the statements at i and w both do: in no loop that holds neither i nor w, and in no branch
    that holds neither (a loop or branch that holds w, the binding before w, runs it before w on
    the same trip; `u = u0` then a loop whose body rebinds `u` before writing into it)."""
    stmt, loops = flat[i]
    target_loops = flat[w][1]
    if w > i:
        path = range(i + 1, w)
    else:
        start, end = [span for span in loops if span in flat[w][1]][-1]
        path = [*range(i + 1, end + 1), *range(start, w)]
    target = flat[w][0]
    for b in path:
        bound, bound_loops = flat[b]
        if (_binds(bound, name) and (bound_loops == loops[:len(bound_loops)]
                                     or b < w and bound_loops == target_loops[:len(bound_loops)])
                and branches[bound.sid] <= branches[stmt.sid] | branches[target.sid]
                and all(owner != bound.sid for owner, _ in branches[target.sid])):
            return True
    return False


def _binds(stmt: ir.Stmt, name: str) -> bool:
    """Whether `stmt` surely binds `name` to another value: an assignment, or an `if` each of
    whose branches does (as `t = (x if c else y)` is lowered)."""
    if isinstance(stmt, Assign):
        return stmt.target.name == name and not ir.is_inplace(stmt.value)
    if isinstance(stmt, ir.If):
        return all(any(_binds(s, name) for s in block) for block in (stmt.body, stmt.orelse))
    return False


def _held(value: ir.Expr, sequences: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Names whose object `value` is or contains (not a computed result); with `sequences`,
    the names that may hold a tuple or list, also those that `a + b` or `a * n` joins."""
    if isinstance(value, Var):
        return {value.name}
    if isinstance(value, ir.Pack) or (isinstance(value, Call) and value.op.value in (
            runtime.make_list, runtime.make_dict, runtime.make_record)):
        return {a.name for a in ir.atoms_of(value) if isinstance(a, Var)}
    if isinstance(value, Call) and value.op.value in (operator.add, operator.mul, runtime.copy_list):
        return {a.name for a in value.args if isinstance(a, Var) and a.name in sequences}
    return set()


def _sequences(fn: ir.Function) -> frozenset[str]:
    """Names that may hold a tuple or list: bound to a display, a constant tuple, or a join of those."""
    values = [(s.target.name, s.value) for s in ir.walk(fn.body) if isinstance(s, Assign)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, value in values:
            if name not in found and (_held(value, found) & found or _a_sequence(value)):
                found.add(name)
                changed = True
    return frozenset(found)


def _a_sequence(value: ir.Expr) -> bool:
    if isinstance(value, ir.Const):
        return isinstance(value.value, (tuple, list))
    return isinstance(value, ir.Pack) or (isinstance(value, Call) and value.op.value in (
        runtime.make_list, runtime.copy_list))


def _reject(fn: ir.Function, stmt: ir.Stmt, line: int) -> None:
    name = stmt.target.name
    raise UnsupportedSyntax(
        f"writing into {name!r} in place, but {name!r} may share memory with another value "
        f"(it is bound at line {stmt.line}); the derivative would not see the change",
        Location.of(fn.filename, line, fn.lines.get(line, ""), name),
        hint=f"write into a copy: {name} = {name}.copy() (or build it with np.zeros / np.array)",
    )


# ---------------------------------------------------------------- `y += v` on a name


def guard_augmented(fn: ir.Function, augmented: dict[int, tuple], namer: Namer) -> list[ir.Stmt]:
    """`y += v` is lowered as `y = y + v`: what Python does for numbers and tuples, and for an
    array or list no other name holds. Where `y` may share memory with another name that is
    read afterwards (`y` was bound to it, to a view of it, to a global or a loop item, or it
    holds `y`), Python would write into the shared object, which the derivative would not
    follow: `y + v` then reads `y` through `rebindable`, which lets numbers and tuples through
    and refuses an array or a list at the user's line (its kind is only known when it runs)."""
    return _guard(fn.body, augmented, _shared_rebinds(fn, set(augmented)), namer)


def _shared_rebinds(fn: ir.Function, rebinds: set[int]) -> set[int]:
    """Of the statements `rebinds` (`y = y + v` for `y += v`, `d = without(d, k)` for `del d[k]`),
    those whose name may share its object with another name read afterwards (or with a global
    or a loop item): there Python would change the shared object in place."""
    flat = _flatten(fn.body)
    branches = _branches(fn.body)
    sources = _sources(fn)
    sequences = _sequences(fn)
    risky = set()
    for w, (stmt, loops) in enumerate(flat):
        if stmt.sid not in rebinds:
            continue
        name = stmt.value.args[0].name
        others = sources(name, frozenset())
        if others is not None:
            others = _held_by(flat, w, loops, others | {name}, (sequences, rebinds)) - {name}
        if others is None or _read_after_write(flat, branches, others, w) is not None:
            risky.add(stmt.sid)
    return risky


def refuse_shared_deletions(fn: ir.Function, deletions: set[int]) -> None:
    """`del d[k]` is lowered as `d = without(d, k)`, a new dict or list: what Python's `d` holds
    when no other name holds the object. Where one may and is read afterwards, it is refused."""
    for stmt in ir.walk(fn.body):
        if stmt.sid in _shared_rebinds(fn, deletions):
            name = stmt.value.args[0].name
            raise UnsupportedSyntax(
                f"`del {name}[...]` on a dict or list that another name may hold and read afterwards: Python "
                "removes the item from that object too, which the derivative would not follow",
                Location.of(fn.filename, stmt.line, fn.lines.get(stmt.line, ""), "del"),
                hint=f"delete from a copy: {name} = dict({name}) (or list({name})) before the del")


def _guard(body: list[ir.Stmt], augmented: dict[int, tuple], risky: set[int], namer: Namer) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _guard(block, augmented, risky, namer))
        elif stmt.sid in risky:
            call = stmt.value
            checked = Var(namer.temp())
            out.append(Assign(checked, Call(runtime_ref("rebindable"), (call.args[0], ir.Const(augmented[stmt.sid]))),
                              stmt.line))
            stmt = Assign(stmt.target, Call(call.op, (checked, *call.args[1:]), call.kwargs), stmt.line)
        out.append(stmt)
    return out


def _sources(fn: ir.Function):
    """`sources(name)`: the user names whose object `name` may be (a copy of the name, a view of
    it; s2sad's temporaries looked through), or None when it may be a global or a loop item."""
    bindings: dict[str, list[ir.Expr]] = {}
    items: dict[str, set[str]] = {}  # a list's, tuple's or dict's items, by name
    loop_targets = set()
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, Assign) and not ir.is_inplace(stmt.value):
            bindings.setdefault(stmt.target.name, []).append(stmt.value)
            if not isinstance(stmt.value, Var):  # `c = [v]`: an item of c is v
                items.setdefault(stmt.target.name, set()).update(_held(stmt.value))
        elif isinstance(stmt, Assign) and isinstance(stmt.value.args[0], Var):
            items.setdefault(stmt.value.args[0].name, set()).update(_stored(stmt.value))  # `c.append(v)`
        elif isinstance(stmt, ir.For):
            loop_targets.add(stmt.target.name)

    def sources(name: str, seen: frozenset) -> set[str] | None:
        if name in loop_targets:
            return None
        found: set[str] = set()
        for value in bindings.get(name, ()):
            if isinstance(value, Call) and returns_view(value.op.value):
                value = value.args[0]
                for item in items.get(value.name, ()) if isinstance(value, Var) else ():  # `t = c[0]`
                    if item in seen or item == name:
                        continue
                    more = sources(item, seen | {name, value.name})
                    if more is None:
                        return None
                    found |= more | ({item} if item not in fn.temps else set())
            elif not isinstance(value, (Var, ir.Ref)):
                continue
            if isinstance(value, ir.Ref):
                return None
            if isinstance(value, Var) and value.name not in seen:
                more = sources(value.name, seen | {name})
                if more is None:
                    return None
                found |= more | ({value.name} if value.name not in fn.temps else set())
        return found

    return sources


def _holders(flat: list, w: int, loops: tuple, name: str, context: tuple) -> set[str]:
    """Names that hold `name`'s object (`a = name`, `(name, 1)`, `items.append(name)`) or a view
    of it (`a = name.T`) when the statement at `w` runs: bound before it, or anywhere in the same loop."""
    sequences, augmented = context
    out = set()
    for i, (stmt, _) in enumerate(flat):
        if not isinstance(stmt, Assign) or not (i < w or any(lo <= i <= hi for lo, hi in loops)):
            continue
        if stmt.sid in augmented:
            continue  # `t = y + v` of a `y += v`: `t` becomes `y` itself
        if ir.is_inplace(stmt.value):
            if any(a == Var(name) for a in stmt.value.args[1:]) and isinstance(stmt.value.args[0], Var) \
                    and not _into_an_array(stmt.value):
                out.add(stmt.value.args[0].name)
        elif (name in _held(stmt.value, sequences) or _a_view_of(stmt.value, name)) and stmt.target.name != name:
            out.add(stmt.target.name)
    return out


def _a_view_of(value: ir.Expr, name: str) -> bool:
    """Whether `value` may be a view of `name`'s memory (`name.T`, `name[1:]`, `name.reshape(-1)`:
    any op whose rule says it returns a view), which a write into `name` changes too."""
    if not (isinstance(value, Call) and value.args and value.args[0] == Var(name) and returns_view(value.op.value)
            and not ir.is_inplace(value)):
        return False
    return value.op.value is not getattr or value.args[1] in ARRAY_VIEW_ATTRIBUTES


ARRAY_VIEW_ATTRIBUTES = tuple(ir.Const(a) for a in ("T", "mT", "real", "imag", "flat"))
"""The attributes of an array that share its memory (`x.shape`, `x.ndim`, `x.dtype` are new
values); an attribute of another object (a namedtuple's field) is one of its items, not a view."""


def _held_by(flat: list, w: int, loops: tuple, names: set[str], context: tuple) -> set[str]:
    """`names` and every name or container that holds one of them (`t = (x, 1.0)`, `u = t`);
    `context` is (names that may be tuples or lists, ids of the `y += v` statements)."""
    found, todo = set(names), list(names)
    while todo:
        for holder in _holders(flat, w, loops, todo.pop(), context) - found:
            found.add(holder)
            todo.append(holder)
    return found
