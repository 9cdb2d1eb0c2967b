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
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass

from s2sad.core.source import define
from s2sad.errors import NoSource

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

    fun: object
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

    @property
    def plain(self) -> types.FunctionType:
        return self.fixed if self.fixed is not None else plain_function(self.fun)


def target_of(fun: object) -> Target:
    """Normalise `fun` (a `Target` is returned as is)."""
    if isinstance(fun, Target):
        return fun
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
    that calls it, so its rule is used like at any other call site. Other callables unchanged."""
    if rule_kind(obj) is None:
        return obj
    if "_s2sad_caller" not in obj.__dict__:
        params = ", ".join(inspect.signature(obj.fun).parameters)
        name = obj.fun.__name__
        source = f"def {name}({params}):\n    return rule({params})\n"
        filename = f"<s2sad call of {obj.fun.__qualname__}>"
        obj.__dict__["_s2sad_caller"] = define(source, filename, {"rule": obj}, [name])[0]
    return obj.__dict__["_s2sad_caller"]


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
