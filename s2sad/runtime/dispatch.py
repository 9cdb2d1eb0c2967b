"""Runtime, calls of function values known only when the code runs.

`f(x)` where `f` is not fixed where the code is built (a parameter that is a list of functions,
a function chosen by a branch, a function a derivative is not specialised to) is lowered to
`call_value(f, x)`. The transforms give such a call the derivative of whatever `f` is when it
runs: `value_derivative(f, mode, wrt, ...)` looks it up then, through the `derive` the face
registers here (`register_derive`, at `import s2sad`; the runtime imports no stage). What is
derived is a small caller, `def call_f(a0, a1): return fn(a0, a1)` with `fn` bound to `f`, made
once per function value and number of arguments: the pipeline reads it like any user function,
so a library function with a rule (np.sin) uses its rule, and a Python function, a closure, a
lambda, a bound method, a partial or a derivative s2sad made gets its own derivative from the
cache. The derivative code it returns is itself called with `call_value`, so generated code
that calls function values is differentiated again the same way (higher order).
"""

from __future__ import annotations

import inspect
import keyword
import linecache
import threading
import types

from s2sad.errors import Location, MissingRule, S2SADError, UnsupportedValue

_DERIVE: list = []
_CALLERS: dict[tuple, object] = {}
_DERIVED: dict[tuple, tuple] = {}
"""(f, count, keys, mode, wrt, part) -> (code, its cache entry): the lookup when the code runs."""
_LOCK = threading.Lock()


def register_derive(derive) -> None:
    """The face's `derive(fun, mode, wrt, part) -> (code, built)` (the cache's)."""
    _DERIVE[:] = [derive]


def call_value(f, *args, **kwargs):
    """`f(*args, **kwargs)`: a call of a function value (its derivative: `value_derivative`)."""
    return f(*args, **kwargs)


def method_value(obj, name: str, active: bool, filename: str, line: int):
    """The function value behind `obj.name(...)` for an object known only when the code runs
    (`layer.forward(x)` with `layer` from a list): with `active` False, the bound method (the
    object's attributes are constants, as `self.w` is in a method); with `active` True (the
    object itself carries a derivative: a dataclass or namedtuple being differentiated), the
    function its class defines, called with the object first so that the derivative flows into
    it. A method of a library object (a random generator, a list) is refused at the user's line."""
    if _library(type(obj)):
        raise _method_refusal(obj, name, False, filename, line)
    if not active:
        return getattr(obj, name)
    found = inspect.getattr_static(type(obj), name, None)
    if not isinstance(found, types.FunctionType) or name in getattr(obj, "__dict__", {}):
        raise _method_refusal(obj, name, True, filename, line)
    return found


def _library(cls: type) -> bool:
    return cls.__module__.partition(".")[0] in _LIBRARIES


_LIBRARIES = frozenset({"builtins", "numpy", "scipy", "random", "collections"})
"""Modules whose objects' methods s2sad has no derivative for (beyond the rules it has)."""


DISTRIBUTION_METHODS = frozenset({"logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "logpmf", "pmf"})
"""The methods of a frozen scipy.stats distribution that the lowering writes as the distribution's
own call (`s2sad.front.distributions`); called on one it could not, they are refused naming that call."""


def _method_refusal(obj, name: str, active: bool, filename: str, line: int) -> S2SADError:
    if active:
        return MissingRule(
            f"the method call .{name}(...) is on a {type(obj).__name__} that carries a derivative itself, and "
            f"{name} is not a function defined in its class", _where(filename, line),
            "define the method in the class (def forward(self, x): ...), or pass what it needs as arguments")
    frozen = ""
    if name in DISTRIBUTION_METHODS:
        frozen = (f" (a frozen scipy.stats distribution? d.{name}(x) is differentiated as "
                  f"scipy.stats.norm.{name}(x, loc, scale) when d is made inside the function, "
                  "d = norm(loc, scale), and used only to call logpdf, pdf, cdf, logcdf, sf, logsf, "
                  "logpmf or pmf; or call the distribution's method with its parameters yourself)")
    return MissingRule(
        f"the method call .{name}(...) on a {type(obj).__name__} gets an active argument; s2sad has no rule for it",
        _where(filename, line),
        hint="call a module-level function instead, or a method defined in your own class, or wrap the "
             "arguments in s2sad.stop_gradient if no derivative should flow; for a random generator made here, "
             "scale standard draws (mu + sigma * rng.standard_normal(n)) or draw from a generator defined at "
             f"module level{frozen}")


def value_derivative(f, mode: str, wrt: tuple, count: int, keys: tuple, part: str, filename: str, line: int):
    """The derivative code (`part` "fun" or "bwd" of `mode`) of calling `f` with `count`
    positional arguments and the keyword arguments `keys`, with respect to the arguments at the
    positions `wrt` (keyword ones after the positional ones). A function value whose derivative
    cannot be built is refused at the user's call (`filename`, `line`)."""
    try:
        key = (f, count, keys, mode, wrt, part)
        hit = _DERIVED.get(key)
    except TypeError:  # an unhashable callable object
        key, hit = None, None
    if hit is not None and hit[1].still_valid():  # the hot path: valid as the cache's own entry is
        return hit[0]
    if not _DERIVE:
        raise RuntimeError("s2sad internal error: no derive registered (import s2sad)")
    caller = _caller(f, count, keys, filename, line)
    try:
        code, built = _DERIVE[0](caller, mode, tuple(f"a{i}" for i in wrt), part)
    except S2SADError as error:
        raise _at_call(error, f, filename, line) from error
    if key is not None and built is not None:
        _DERIVED[key] = (code, built)
    return code


def _caller(f, count: int, keys: tuple, filename: str, line: int):
    """`def call_f(a0, .., an): return fn(a0, .., k=an)`, made once per (f, count, keys)."""
    if not callable(f) or isinstance(f, type):
        raise UnsupportedValue(f"a call of a function value got {type(f).__name__} {f!r:.60}, which s2sad cannot "
                               "differentiate a call of", _where(filename, line),
                               "call a function, a lambda, a method or an object with __call__")
    try:
        key = (f, count, keys)
        hash(key)
    except TypeError:
        key = (id(f), count, keys)  # an unhashable callable object: by identity (kept alive below)
    with _LOCK:
        if key not in _CALLERS:
            _CALLERS[key] = (_define_caller(f, count, keys), f)
        return _CALLERS[key][0]


def _define_caller(f, count: int, keys: tuple):
    params = [f"a{i}" for i in range(count + len(keys))]
    passed = params[:count] + [f"{k}={p}" for k, p in zip(keys, params[count:])]
    spelled = getattr(f, "__name__", "")
    spelled = spelled if isinstance(spelled, str) and spelled.isidentifier() and spelled not in params \
        and not keyword.iskeyword(spelled) else "fn"
    name = "call_" + spelled
    source = f"def {name}({', '.join(params)}):\n    return {spelled}({', '.join(passed)})\n"
    filename = f"<s2sad call of a function value {name} #{len(_CALLERS) + 1}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # read back to derive it
    scope = {spelled: f}
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - source written just above
    return scope[name]


def _at_call(error: S2SADError, f, filename: str, line: int) -> S2SADError:
    """`error` (raised building the derivative of `f`) again, at the user's call of the value."""
    what = getattr(f, "__qualname__", None) or type(f).__name__
    message = f"the function value called here ({what}) cannot be differentiated: {error.message}"
    hint = error.hint or "pass a function s2sad can differentiate"
    if error.where is not None and not error.where.filename.startswith(("<s2sad call of", filename)):
        hint += f" (at {error.where})"
    try:
        return type(error)(message, _where(filename, line), hint)
    except TypeError:  # an error class with other parameters
        return S2SADError(message, _where(filename, line), hint)


def _where(filename: str, line: int) -> Location:
    return Location(filename, line, 0, linecache.getline(filename, line))


__all__ = ["call_value", "method_value", "register_derive", "value_derivative"]
