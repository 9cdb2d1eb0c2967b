"""Core, the target: the user's function normalised once, where the API receives it.

`target_of` turns what the user passes (a function, a bound method, a decorated function, a
custom-rule object, a derivative s2sad made) into one frozen `Target`: what is called, the
plain function whose source is read, the class and object of a bound `self`, and the
parameters a caller passes. The cache and the pipeline receive that record; no stage unwraps
the user's object again. A callee met inside differentiated code gets its own target where its
derivative is looked up.

The face (api, custom) sits above every stage, so what the stages must recognise of it is
declared here: a custom-rule object says its kind in the class attribute `__s2sad_rule__`, a
derivative of a bound method gives its `self` in `__s2sad_bound__`, and the face registers its
transform functions (`s2sad.grad`, ...) with `register_face`, so the lowering can build a
derivative met in differentiated code (`s2sad.grad(f)(x)`) without importing the face.

A function with `*args` or `**kwargs` is specialised to the shape of each call (how many extra
positional arguments, which extra keywords: `Target.shape`): its code then takes one parameter
per extra argument (`args_0`, `args_1`, `kwargs_w`), see `with_shape`. A derivative the face
made of such a function makes its shaped variant through `__s2sad_for_shape__(shape)`.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from s2sad.core.naming import spelled_name
from s2sad.core.source import define
from s2sad.errors import Location, NoSource, UnsupportedValue, caller

UNBOUND = object()
"""`bound_self` of a function that is not a bound method."""

CUSTOM_RULES = ("custom_jvp", "custom_vjp", "checkpoint")
"""The kinds of the face's custom-rule objects (their class's `__s2sad_rule__`)."""


class MethodOf:
    """A method of a user class, called with `self` as its first argument: `Cls.method(self, x)`.

    Keeps the class so that the method's own `self.other(...)` calls can be followed too."""

    def __init__(self, function: types.FunctionType, cls: type) -> None:
        self.function, self.cls = function, cls
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MethodOf) and (self.function, self.cls) == (other.function, other.cls)

    def __hash__(self) -> int:
        return hash((self.function, self.cls))


@dataclass(frozen=True, eq=False)
class Target:
    """The user's function, normalised once (see `target_of`)."""

    fun: Any
    """What is called: the user's callable, a custom-rule object replaced by its caller."""
    fixed: types.FunctionType | None
    """The function whose source is read; None when it is a derivative s2sad made, whose code
    is rebuilt when what it was built from changes (then `plain` asks it each time)."""
    self_class: type | None
    """For a method: the class of `self`, so `self.other(...)` calls can be followed."""
    bound: object
    """The object a bound method passes as `self`, else `UNBOUND`."""
    params: tuple[str, ...]
    """The parameters a caller passes (a bound method's `self` is already bound): the positional
    ones, then the keyword-only ones, those without a default first."""
    known: tuple[tuple[str, object], ...] = ()
    """Parameters whose value is fixed where the code is built (a function passed as a value,
    a string naming one): the code is specialised to them, like to an argument's kind."""
    shape: tuple | None = None
    """For a function with `*args` or `**kwargs`: the call shape the code is specialised to,
    `(number of extra positional arguments, names of extra keywords)` (see `with_shape`)."""

    @property
    def plain(self) -> types.FunctionType:
        return self.fixed if self.fixed is not None else plain_function(self.fun)


def target_of(fun: object) -> Target:
    """Normalise `fun` (a `Target` is returned as is)."""
    if isinstance(fun, Target):
        return fun
    if isinstance(fun, Specialised):
        return replace(target_of(fun.fun), known=fun.known)
    if isinstance(fun, Shaped):
        return with_shape(target_of(fun.fun), fun.shape, fun)
    fun = as_function(fun)
    plain = _plain(fun)
    inner = fun.__func__ if isinstance(fun, types.MethodType) else fun
    fixed = None if hasattr(type(inner), "__s2sad_source_function__") else plain
    bound = bound_self(fun)
    code = plain.__code__
    keyword = code.co_varnames[code.co_argcount: code.co_argcount + code.co_kwonlyargcount]
    with_default = plain.__kwdefaults__ or {}
    names = code.co_varnames[: code.co_argcount] + tuple(sorted(keyword, key=lambda n: n in with_default))
    return Target(fun, fixed, self_class(fun), bound, tuple(names[1:] if bound is not UNBOUND else names))


class Specialised:
    """A user function called with some parameters bound to values known where the caller's
    code is built (`rk4(rhs, y, h)` with `rhs` a function): its own derivative is specialised to
    them (see `Target.known`). Called, it calls the function."""

    def __init__(self, fun: object, known: tuple[tuple[str, object], ...]) -> None:
        self.fun, self.known = fun, known
        self.__name__ = getattr(fun, "__name__", "f")
        self.__qualname__ = getattr(fun, "__qualname__", self.__name__)

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Specialised) and (self.fun, self.known) == (other.fun, other.known)

    def __hash__(self) -> int:
        return hash((self.fun, self.known))


class Shaped:
    """A function with `*args` or `**kwargs` at one call shape (see `with_shape`): called with
    its extra keywords under their parameter names (`kwargs_w=v`), it calls the function with
    them under their own (`w=v`)."""

    def __init__(self, fun: object, shape: tuple) -> None:
        self.fun, self.shape = fun, shape
        self.keywords = {param: key for key, param in keyword_params(plain_function(fun), shape).items()}
        self.__name__ = getattr(fun, "__name__", "f")
        self.__qualname__ = getattr(fun, "__qualname__", self.__name__)

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **{self.keywords.get(k, k): v for k, v in kwargs.items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shaped) and (self.fun, self.shape) == (other.fun, other.shape)

    def __hash__(self) -> int:
        return hash((self.fun, self.shape))


def is_variadic(target: Target) -> bool:
    """A target with `*args` or `**kwargs` not yet specialised to a call shape."""
    return target.shape is None and bool(target.plain.__code__.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))


def call_shape(target: Target, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The shape of the call `fun(*args, **kwargs)` of a variadic target (see `Target.shape`),
    and `kwargs` with the extra keywords under their parameter names."""
    code = target.plain.__code__
    positional = code.co_argcount - (target.bound is not UNBOUND)
    count = max(len(args) - positional, 0) if code.co_flags & inspect.CO_VARARGS else 0
    named = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    extra = tuple(k for k in kwargs if k not in named) if code.co_flags & inspect.CO_VARKEYWORDS else ()
    odd = [k for k in extra if not k.isidentifier()]
    if odd:
        code_at = Location(code.co_filename, code.co_firstlineno)
        raise UnsupportedValue(f"{code.co_name}(**kwargs) is called with the keyword {odd[0]!r}, which is not a "
                               "Python name", code_at, hint="pass keywords that are Python names")
    shape = (count, extra)
    params = keyword_params(target.plain, shape)
    return shape, {params.get(k, k): v for k, v in kwargs.items()}


def shaped(fun: object, shape: tuple) -> Callable[..., Any]:
    """`fun` specialised to a call shape: a derivative's own variant, else a `Shaped`."""
    for_shape = getattr(fun, "__s2sad_for_shape__", None)
    return for_shape(shape) if for_shape is not None else Shaped(fun, shape)


def shaped_target(target: Target, shape: tuple) -> Target:
    """`target` specialised to a call shape (a derivative's target: its shaped variant's)."""
    for_shape = getattr(target.fun, "__s2sad_for_shape__", None)
    if target.fixed is None and for_shape is not None:
        return target_of(for_shape(shape))
    return with_shape(target, shape)


def with_shape(target: Target, shape: tuple, fun: object = None) -> Target:
    """The target at a call shape: its parameters are the positional ones, one per extra
    positional argument, the keyword-only ones, then one per extra keyword (see `shape_params`)."""
    if target.fixed is None:
        raise NoSource(f"{getattr(target.fun, '__qualname__', target.fun)!r} takes *args or **kwargs and has no "
                       "source of its own to specialise to the call", hint="give it named parameters")
    code = target.plain.__code__
    extra, keywords = shape_params(target.plain, shape)
    positional = code.co_varnames[: code.co_argcount]
    with_default = target.plain.__kwdefaults__ or {}
    keyword = code.co_varnames[code.co_argcount: code.co_argcount + code.co_kwonlyargcount]
    names = positional + extra + tuple(sorted(keyword, key=lambda n: n in with_default)) + keywords
    params = names[1:] if target.bound is not UNBOUND else names
    return replace(target, fun=fun if fun is not None else Shaped(target.fun, shape), shape=shape, params=params)


def shape_params(plain: types.FunctionType, shape: tuple) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The parameters that stand for the extra positional arguments (`args_0`, `args_1`, ...)
    and the extra keywords (`kwargs_w`) of a call shape: the name of `*args` or `**kwargs` and
    the position or keyword, made unique among the names the function uses."""
    code = plain.__code__
    star = code.co_argcount + code.co_kwonlyargcount
    rest = code.co_varnames[star: star + 2]
    args = rest[0] if code.co_flags & inspect.CO_VARARGS else "args"
    kwargs = rest[-1] if code.co_flags & inspect.CO_VARKEYWORDS else "kwargs"
    taken = set(code.co_varnames) | set(code.co_names) | set(code.co_freevars) | set(code.co_cellvars)
    count, keys = shape
    return (tuple(_unique(f"{args}_{i}", taken) for i in range(count)),
            tuple(_unique(f"{kwargs}_{k}", taken) for k in keys))


def keyword_params(plain: types.FunctionType, shape: tuple) -> dict[str, str]:
    """The parameter standing for each extra keyword of a call shape, by keyword."""
    return dict(zip(shape[1], shape_params(plain, shape)[1]))


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def is_function_value(value: object) -> bool:
    """A value the code may be specialised to: a callable that is not a class or an array (a
    function, a method, a NumPy ufunc, a partial, an object with `__call__`) or a string."""
    if isinstance(value, str):
        return True
    if not callable(value) or isinstance(value, type) or hasattr(value, "__array__"):
        return False
    try:
        hash(value)
    except TypeError:
        return False
    return True


def known_of(names: tuple[str, ...], values: tuple) -> tuple[tuple[str, object], ...]:
    """The pairs (name, value) of `values` the code is specialised to (see `is_function_value`)."""
    return tuple((n, v) for n, v in zip(names, values) if is_function_value(v))


def value_kind(value: object) -> tuple[str, object] | None:
    """The kind of an argument the code is specialised to by value: `("value", value)`."""
    return ("value", value) if is_function_value(value) else None


def trailing_kinds(target: Target, given: int, kwargs: dict) -> tuple:
    """Kinds of the parameters after the `given` positional arguments that are function values
    (passed by keyword, or a default like `nonlinearity=np.tanh`): `()` when there are none."""
    code = target.plain.__code__
    if not kwargs and given >= code.co_argcount + code.co_kwonlyargcount:
        return ()  # every parameter given by position: the call's hot path reads no signature
    signature = inspect.signature(target.plain)
    params = list(signature.parameters.values())[given:]
    values = [kwargs.get(p.name, None if p.default is p.empty else p.default) for p in params]
    kinds = tuple(value_kind(v) for v in values)
    return kinds if any(kinds) else ()


def with_value_kinds(target: Target, kinds: tuple | None, shapes: tuple | None = None) -> Target:
    """`target` specialised to the arguments of kind `("value", v)` in `kinds` (one per
    parameter, a bound method's `self` first), see `value_kind`. The target of a derivative of
    a derivative (`hessian`, `jvp` of a `grad`) is the inner derivative's code for the same
    kinds and shapes of arguments, so the code differentiated again is the specialised one."""
    code = target.plain.__code__
    names = code.co_varnames[: code.co_argcount]
    known = tuple((n, k[1]) for n, k in zip(names, kinds or ()) if isinstance(k, tuple) and k[:1] == ("value",))
    inner = getattr(target.fun, "built", None)
    if target.fixed is None and callable(inner) and kinds is not None and len(kinds) >= len(names):
        fun = inner(tuple(kinds[: len(names)]), tuple(shapes[: len(names)]) if shapes else None).fun
        return replace(target, fixed=getattr(fun, "python", fun), known=target.known + known)
    return replace(target, known=target.known + known) if known else target


def plain_function(fun: object) -> types.FunctionType:
    """The plain function behind a decorated, bound or s2sad-transformed callable."""
    return _plain(as_function(fun))


def _plain(fun: object) -> types.FunctionType:
    if getattr(fun, "__s2sad_jacobian__", False):
        raise NoSource(
            "a Jacobian function (jacfwd/jacrev/hessian/hvp/elementwise_grad) has no generated code to read: it "
            "builds its result in Python loops, so grad, vjp and hessian cannot differentiate it",
            hint="differentiate it with jacfwd, jacrev, elementwise_grad or jvp (forward mode over it), or use "
                 "s2sad.hessian(f), s2sad.hvp(f) or s2sad.jacfwd(s2sad.grad(f))")
    inner = getattr(fun, "__s2sad_source_function__", None)
    if inner is not None:
        return inner
    if isinstance(fun, MethodOf):
        return fun.function
    if isinstance(fun, types.MethodType):
        return _plain(fun.__func__)
    if isinstance(fun, types.FunctionType):
        return fun
    if not callable(fun):
        shown = repr(fun)
        raise NoSource(
            f"s2sad differentiates a function, but was given a {type(fun).__name__} "
            f"({shown[:40] + '...' if len(shown) > 40 else shown})", caller(),
            hint="pass the function itself, s2sad.grad(f), not the value of a call, s2sad.grad(f(x))")
    what = getattr(fun, "__name__", type(fun).__name__)
    raise NoSource(
        f"{what!r} is not a Python function s2sad can read the source of",
        hint="pass a function defined with `def` in a file, or register a rule with s2sad.defvjp",
    )


def params_of(fun: object) -> list[str]:
    """The parameters a caller of `fun` passes (see `Target.params`)."""
    return list(target_of(fun).params)


def rule_kind(obj: object) -> str | None:
    """"custom_jvp", "custom_vjp" or "checkpoint" for a custom-rule object, else None."""
    return getattr(type(obj), "__s2sad_rule__", None)


def self_class(fun: object) -> type | None:
    if isinstance(fun, MethodOf):
        return fun.cls
    if isinstance(fun, types.MethodType) and not isinstance(fun.__self__, type):
        return type(fun.__self__)
    return None


def bound_self(fun: object) -> object:
    """The object a bound method (or a derivative of one) passes as `self`, else `UNBOUND`."""
    if isinstance(fun, types.MethodType):
        return fun.__self__
    return getattr(fun, "__s2sad_bound__", UNBOUND)


def defaults_of(plain: types.FunctionType) -> tuple:
    """The default values generated code bakes in: positional, then keyword-only by name."""
    keyword = plain.__kwdefaults__ or {}
    return tuple(plain.__defaults__ or ()) + tuple(keyword[name] for name in sorted(keyword))


def as_function(obj: object) -> object:
    """For `grad(f)` of a custom_jvp / custom_vjp / checkpoint object itself: a plain function
    that calls it, so its rule is used like at any other call site. A `functools.partial` is a
    plain function that calls its function with the bound arguments (see `partial_caller`), an
    object with `__call__` its bound `__call__` method. Other callables unchanged."""
    if isinstance(obj, functools.partial):
        return partial_caller(obj)
    if callable_object(obj):
        return types.MethodType(type(obj).__call__, obj)
    if rule_kind(obj) is None:
        return obj
    if "_s2sad_caller" not in obj.__dict__:
        params = ", ".join(inspect.signature(obj.fun).parameters)
        name = obj.fun.__name__
        source = f"def {name}({params}):\n    return rule({params})\n"
        filename = f"<s2sad call of {obj.fun.__qualname__}>"
        obj.__dict__["_s2sad_caller"] = define(source, filename, {"rule": obj}, [name])[0]
    return obj.__dict__["_s2sad_caller"]


def callable_object(obj: object) -> bool:
    """An instance of a user class whose `__call__` is a plain function (not s2sad's own objects)."""
    if isinstance(obj, (type, types.FunctionType, types.MethodType, MethodOf)) or rule_kind(obj) is not None:
        return False
    if any(inspect.getattr_static(obj, name, None) is not None  # static: the property would build code
           for name in ("__s2sad_source_function__", "__s2sad_jacobian__")):
        return False
    module = type(obj).__module__ or ""
    if module.split(".")[0] in ("builtins", "numpy", "scipy", "functools", "s2sad"):
        return False  # a library's callable (np.vectorize, ...): called as itself, with its rule if it has one
    return isinstance(inspect.getattr_static(type(obj), "__call__", None), types.FunctionType)


def partial_caller(part: functools.partial) -> types.FunctionType:
    """`functools.partial(f, a0, k=v)` as `def f(x, y=d): return partial_fun(partial_arg0, x, y, k=partial_k)`:
    the parameters left are those of `f` not bound by the partial (keyword-bound ones are fixed),
    the bound values are constants of the caller. Made once per partial object."""
    if "_s2sad_caller" in part.__dict__:
        return part.__dict__["_s2sad_caller"]
    fun = as_function(part.func)
    inner = inspect.signature(fun).parameters
    left = [p for p in list(inner.values())[len(part.args):] if p.name not in part.keywords]
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in left):
        raise NoSource(f"a functools.partial of {getattr(fun, '__qualname__', fun)!r} leaves *args, **kwargs or "
                       "keyword-only parameters", hint="give the function named positional parameters")
    scope: dict = {"partial_fun": fun}
    scope.update({f"partial_arg{i}": a for i, a in enumerate(part.args)})
    scope.update({f"partial_{k}": v for k, v in part.keywords.items()})
    scope.update({f"partial_default_{p.name}": p.default for p in left if p.default is not p.empty})
    params = [p.name + (f"=partial_default_{p.name}" if p.default is not p.empty else "") for p in left]
    passed = ([f"partial_arg{i}" for i in range(len(part.args))] + [p.name for p in left]
              + [f"{k}=partial_{k}" for k in part.keywords])
    name = spelled_name(fun)
    source = f"def {name}({', '.join(params)}):\n    return partial_fun({', '.join(passed)})\n"
    filename = f"<s2sad partial of {getattr(fun, '__qualname__', name)}>"
    part.__dict__["_s2sad_caller"] = define(source, filename, scope, [name])[0]
    return part.__dict__["_s2sad_caller"]


# ------------------------------------------------------------------ what the face registers

_FACE: dict[str, object] = {}


def register_face(transforms: dict[str, Callable], make: Callable) -> None:
    """The face's transform functions by mode (`{"grad": s2sad.grad, ...}`), and `make(fun,
    mode, argnums)`, which makes a derivative object (called when the lowering meets
    `s2sad.jvp(f, ...)` inside differentiated code)."""
    _FACE.update(transforms=dict(transforms), make=make)


def face_mode(obj: object) -> str | None:
    """The mode of the face's transform function `obj` (`s2sad.grad` -> "grad"), else None."""
    for mode, fun in _FACE.get("transforms", {}).items():
        if fun is obj:
            return mode
    return None


def make_derivative(fun: object, mode: str, argnums: tuple) -> object:
    """A derivative object of the face's (what `s2sad.grad(fun, argnums=...)` returns)."""
    return _FACE["make"](fun, mode, argnums)
