"""The transforms users call: grad, value_and_grad, jvp, vjp, taylor, derivatives, show. Argument checks
live here."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import linecache
import math
import numbers
import types
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np

from s2sad import cache
from s2sad.analyses.shapes import NUMBER
from s2sad.back.jit import check_backend
from s2sad.core import graph, printer
from s2sad.core.modes import DIRECTIONS, GRAD, GRADIENTS, JVP, REVERSE, TAYLOR, VALUE_AND_GRAD, VJP, taylor_mode
from s2sad.core.targets import (
    UNBOUND,
    Shaped,
    Target,
    call_shape,
    is_variadic,
    keyword_params,
    register_face,
    shaped_target,
    target_of,
    trailing_kinds,
    value_kind,
)
from s2sad.errors import (
    USER_CODE,
    ArgnumsError,
    CotangentError,
    IntegerArgument,
    Location,
    NonScalarOutput,
    S2SADError,
    UnsupportedSyntax,
    UnsupportedValue,
    UsageError,
    caller,
    trimmed,
    user_facing,
)
from s2sad.pipeline import Built, Request
from s2sad.runtime import Series, map_structure, unwind_contexts, zeros_like
from s2sad.runtime.core import foreign_array

Argnums = int | str | Sequence[int | str]


def _defaults(target: Target) -> dict[str, object]:
    """The default values of the parameters a caller may leave out."""
    signature = inspect.signature(target.plain)
    return {name: p.default for name, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}


def resolve_argnums(fun: object, argnums: Argnums) -> tuple[tuple[str, ...], bool]:
    """Parameter names to differentiate, and whether a single gradient (not a tuple) is wanted."""
    fun = target_of(fun)
    _refuse_star_wrapper(fun)
    params = list(fun.params)
    single = isinstance(argnums, (int, str))
    if not single and not isinstance(argnums, Sequence):
        raise ArgnumsError(f"argnums must be an int, a parameter name or a tuple of those, got {argnums!r}",
                           caller(), hint="e.g. argnums=0, argnums='w' or argnums=(0, 'b')")
    items = [argnums] if single else list(cast(Sequence[int | str], argnums))
    names = [_argnum_name(fun, params, item) for item in items]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ArgnumsError(f"argnums={argnums!r} names {twice[0]!r} twice", caller(),
                           hint="list each parameter once")
    return tuple(names), single


def _refuse_star_wrapper(target: Target) -> None:
    """A decorated function is differentiated as what is called: the decorator's wrapper. One
    that passes `*args, **kwargs` on cannot be followed (its parameters are not known)."""
    fun = target.fun.fun if isinstance(target.fun, Shaped) else target.fun
    code = target.plain.__code__
    starred = code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
    if not starred or target.fixed is None or getattr(fun, "__wrapped__", None) is None:
        return
    where = Location(code.co_filename, code.co_firstlineno, 0, linecache.getline(code.co_filename, code.co_firstlineno))
    raise UnsupportedSyntax(
        f"{_name(fun)} is a decorator's wrapper {code.co_name}(*args, **kwargs): s2sad differentiates what is "
        "called, the wrapper, and cannot follow the *args and **kwargs it passes on", where,
        hint=f"give the wrapper the parameters of the function it wraps (def {code.co_name}(x): ...), or "
             f"differentiate {_name(fun)}.__wrapped__ if the decorator does not change the value")


def _argnum_name(fun: object, params: list[str], item: object) -> str:
    if isinstance(item, bool) or not isinstance(item, (int, str)):
        raise ArgnumsError(f"argnums must be ints or parameter names, got {item!r}", caller(),
                           hint="e.g. argnums=0, argnums='w' or argnums=(0, 'b')")
    if isinstance(item, str):
        if item not in params:
            raise ArgnumsError(f"argnums names {item!r}, which is not a parameter of {_name(fun)} {params}",
                               caller(), hint=f"name one of {', '.join(map(repr, params))}")
        return item
    if not -len(params) <= item < len(params):
        shaped = target_of(fun).shape is not None
        raise ArgnumsError(f"argnums={item} but {_name(fun)} takes {len(params)} parameters {params}",
                           caller(), hint="with *args, argnums counts the arguments of the call, the extra "
                                          "ones included" if shaped else
                           f"argnums counts from 0: 0 to {len(params) - 1}, or a parameter's name such as "
                           f"{params[0]!r}" if params else "")
    return params[item]


def _name(fun: object) -> str:
    fun = fun.fun if isinstance(fun, Target) else fun
    return getattr(fun, "__qualname__", getattr(fun, "__name__", repr(fun)))


def _where(fun: object) -> Location:
    code = target_of(fun).plain.__code__
    return Location(code.co_filename, code.co_firstlineno)


def _float64(value: Any) -> bool:
    """A float, a float64 array, or a dict, list or tuple of such (one level): what needs no
    check and no cast on a call (the common cases, tested first: this runs on every call)."""
    kind = type(value)
    if kind is float or (kind is np.ndarray and value.dtype == _FLOAT64):
        return True
    items = value.values() if kind is dict else value if kind is list or kind is tuple else None
    if items is None:
        return False
    for v in items:
        if not (type(v) is float or (type(v) is np.ndarray and v.dtype == _FLOAT64)):
            return False
    return True


_FLOAT64 = np.dtype(np.float64)


def _check_float(fun: object, name: str, value: Any) -> None:
    kind = type(value)
    if kind is float or (kind is np.ndarray and value.dtype.kind == "f") or _float64(value):
        return  # the common cases, checked first: this runs on every call
    if isinstance(value, (bool, numbers.Integral)) or (
        (isinstance(value, np.ndarray) or foreign_array(value)) and not np.issubdtype(value.dtype, np.inexact)
    ):
        raise IntegerArgument(
            f"cannot differentiate {_name(fun)} with respect to {name!r}: it is an integer ({value!r})",
            _where(fun),
            hint=f"pass a float (e.g. {name}=float(...)) or leave {name!r} out of argnums",
        )
    leaves: list = []
    map_structure(leaves.append, value)
    for leaf in leaves:
        if leaf is value and _method_through_class(fun, value):
            method = getattr(getattr(fun, "fun", fun), "__name__", "method")
            raise UnsupportedValue(
                f"{_name(fun)} is differentiated with respect to {name!r}, the {type(value).__name__} it is called "
                f"on: a method taken from the class is a plain function whose first argument is the object",
                caller(), hint=f"differentiate the bound method, s2sad.grad(obj.{method})(x) (argnums then count "
                                f"from the first argument after {name!r}), or pass argnums=1")
        if _plain_object(leaf):
            raise UnsupportedValue(
                f"cannot differentiate {_name(fun)} with respect to {name!r}: it holds a {type(leaf).__name__}, "
                "an object whose fields s2sad does not know", _where(fun),
                hint=f"make {type(leaf).__name__} a dataclass or a NamedTuple (its fields are then differentiated), "
                     f"or leave {name!r} out of argnums (the object's attributes are then constants)")
    if any(isinstance(leaf, (complex, np.complexfloating)) or np.iscomplexobj(leaf) for leaf in leaves
           if isinstance(leaf, (complex, np.ndarray, np.generic))):
        raise UnsupportedValue(f"{_name(fun)}: complex argument {name!r} is not supported yet", caller(),
                               hint="differentiate the real and imaginary parts as separate float arguments")


def _method_through_class(fun: object, value: object) -> bool:
    """Whether `fun` is a method read from the class (`Model.energy`) and `value`, its first
    argument, an object of that class."""
    fun = getattr(fun, "fun", fun)  # (a Target's function)
    name = getattr(fun, "__name__", None)
    return name is not None and getattr(type(value), name, None) is fun


def _plain_object(leaf: object) -> bool:
    """An instance of a class of the user's that is no structure s2sad knows (not a dataclass or
    namedtuple, which `map_structure` goes into): its gradient has no shape."""
    kind = type(leaf)
    return (hasattr(leaf, "__dict__") and not callable(leaf) and not isinstance(leaf, type)
            and kind.__module__.partition(".")[0] not in ("builtins", "numpy") and not foreign_array(leaf))


_SCALAR_TYPES = (float, int, np.float64, np.float32)
MAX_SIGNATURES = 8
"""How many argument shapes one derivative is specialised to, per kinds of arguments; calls
with further shapes run the code built for any shape."""


def _kind(value: object) -> str | tuple | None:
    """"scalar", "array", a function value's `("value", f)` or None: what the generated code
    may be specialised to."""
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return "scalar"
    if kind is np.ndarray:
        return "array"
    return None if kind is dict or kind is list or kind is tuple else value_kind(value)


def _shape(value: Any) -> tuple | str | None:
    """What code is specialised to about an argument: the shape of a float or complex array,
    `shapes.NUMBER` for a Python float or int (not a NumPy scalar), the keys and such shapes of
    a dict's values (`("dict", ((key, shape or None), ...))`), and the same of a tuple's or
    list's items by position (`("tuple", ((0, shape or None), ...))`)."""
    kind = type(value)
    if kind is float or kind is int:
        return NUMBER
    if kind is np.ndarray:
        return value.shape if value.dtype is _FLOAT64 or value.dtype.kind in "fc" else None
    if kind is dict:
        return ("dict", tuple([(k, _leaf_shape(v)) for k, v in value.items()]))
    if kind is tuple or kind is list:
        return (kind.__name__, tuple([(i, _leaf_shape(v)) for i, v in enumerate(value)]))
    return None


def _leaf_shape(value: Any) -> tuple | None:
    return value.shape if type(value) is np.ndarray and (value.dtype is _FLOAT64 or value.dtype.kind in "fc") else None


_MAX_FAST = 64
"""How many call signatures a derivative remembers for its fast path (see `_fast_key`)."""


def _fast_key(args: tuple) -> tuple | None:
    """What decides the code a call by position runs, and that its gradients need no cast, in
    one pass over the arguments: the type of a float or int, a float64 array's shape (another
    array's dtype and shape), a dict of floats and float64 arrays by keys and shapes; None for
    anything else (such a call takes the general path)."""
    key = []
    for value in args:
        kind = type(value)
        if kind is np.ndarray:
            key.append(value.shape if value.dtype is _FLOAT64 else (value.dtype, value.shape))
        elif kind is float or kind is int:
            key.append(kind)
        elif kind is dict:  # (dict, its keys, their values' shapes): 2n items after `dict`, unambiguous
            shapes = []
            for v in value.values():
                if type(v) is np.ndarray and v.dtype is _FLOAT64:
                    shapes.append(v.shape)
                elif type(v) is float:
                    shapes.append(None)
                else:
                    return None
            key.append((dict, *value, *shapes))
        else:
            return None
    return tuple(key)


class _Ran(Exception):  # noqa: N818 - a carrier, never seen by users
    """Carries an error the generated code raised up to the public call, which raises it (so
    that a `TypeError` of the user's code is not taken for an `S2SADError` on the way)."""

    def __init__(self, err: Exception) -> None:
        super().__init__()
        self.err = err


def _locate(err: BaseException, built: Built) -> None:
    """Add to an error raised inside generated code the user's line that code came from (and
    exit the `with` blocks it left open)."""
    unwind_contexts(err)
    filename = built.fun.__code__.co_filename
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            where = built.user_line(tb.tb_lineno)
            if where:
                err.add_note(f"s2sad: raised in the derivative code for {where}")
        tb = tb.tb_next


def _any_complex(tree) -> bool:
    """Whether a leaf of `tree` is complex: a real argument's gradient then needs its real part
    (a complex value from a callee can reach a real variable where the caller shows no complex
    values of its own, docs/conventions.md)."""
    kind = type(tree)
    if kind is np.ndarray:
        return tree.dtype.kind == "c"
    if kind is float:
        return False
    if kind is dict or kind is tuple or kind is list:
        for item in tree.values() if kind is dict else tree:
            leaf = type(item)
            if leaf is np.ndarray and item.dtype is _FLOAT64 or leaf is float:
                continue  # (the common leaves, checked here: this runs on every call)
            if _any_complex(item):
                return True
        return False
    if isinstance(tree, (tuple, list)):  # a namedtuple
        return any(_any_complex(t) for t in tree)
    return isinstance(tree, (complex, np.complexfloating)) or (isinstance(tree, np.ndarray) and tree.dtype.kind == "c")


def _cast(grad, arg):
    """`grad` in the floating dtype of `arg` (arrays and NumPy scalars; Python floats as is)."""
    dtype = getattr(arg, "dtype", None)
    if np.iscomplexobj(grad) and not np.iscomplexobj(arg):
        grad = np.real(grad)  # a real argument's part of a complex cotangent (docs/conventions.md)
    if dtype is None or grad is None or not np.issubdtype(dtype, np.floating) or getattr(grad, "dtype", None) == dtype:
        return grad
    return np.asarray(grad, dtype) if isinstance(arg, np.ndarray) else dtype.type(grad)


def shaped_argnums(target: Target, shape: tuple, argnums: Argnums) -> Argnums:
    """`argnums` of a call of a variadic target, for its code at that call's shape: positions
    are the same, an extra keyword's name is its parameter's (`"w"` -> `"kwargs_w"`)."""
    params = keyword_params(target.plain, shape)  # type: ignore[arg-type]  # mypy binds a property's FunctionType
    if isinstance(argnums, str):
        return argnums if argnums in target.params else params.get(argnums, argnums)
    if isinstance(argnums, Sequence):
        return tuple(cast(int | str, shaped_argnums(target, shape, a)) for a in argnums)
    return argnums


class Transformed:
    """A derivative of `fun`: callable, with `.fun`, `.source` and `.show()`. Of a function with
    `*args` or `**kwargs`, a derivative per call shape (see `for_shape`)."""

    def __init__(self, fun: Any, mode: str, argnums: Argnums, optimize: bool = True,
                 has_aux: bool = False, backend: str = "python", cache_dir: Any = None,
                 inline: bool = False) -> None:
        """`inline`: the helpers inlined as for the Numba backend, with any backend (see `Request.inline`)."""
        cache_dir = check_backend(backend, cache_dir)
        self.target = target = target_of(fun)
        self.fun = fun = target.fun
        self.mode = mode
        self._gradients = mode in GRADIENTS
        self.argnums = argnums
        self._shapes: dict[tuple, Transformed] | None = {} if is_variadic(target) else None
        if self._shapes is not None:
            _refuse_star_wrapper(target)
        wrt, single = ((), isinstance(argnums, (int, str))) if self._shapes is not None else resolve_argnums(
            target, argnums)
        self.request = Request(mode, wrt, single, optimize, has_aux=has_aux, backend=backend, cache_dir=cache_dir,
                               inline=inline or backend == "numba")
        self._bound = target.bound
        self._positions = [target.params.index(n) for n in wrt]
        self._by_kinds: dict[tuple, Built] = {}
        self._fast: dict[tuple | None, Built] = {}
        self._last: tuple = (0, None, None, None)
        """(how many, the type of the first, of the second, the code) of the last call by
        position of one or two numbers that `_fast` answered: the next such call with the same
        types takes it without building a key."""
        """The code for calls by position whose `_fast_key` was seen with float64 gradients."""
        self._signatures: dict[tuple, set[tuple]] = {}
        plain = getattr(fun, "__func__", fun)
        self._plain = plain if isinstance(plain, types.FunctionType) else None
        """The function whose source is read, when that is fixed (not an inner transform's code)."""
        functools.update_wrapper(self, fun, updated=())

    def for_shape(self, shape: tuple) -> Transformed:
        """The derivative of a variadic function at one call shape (see `Target.shape`): its
        code takes the extra arguments as parameters, the extra keywords as `kwargs_<name>`."""
        shapes = cast(dict[tuple, Transformed], self._shapes)  # a variadic function's: not None
        if shape not in shapes:
            argnums = shaped_argnums(self.target, shape, self.argnums)
            shapes[shape] = Transformed(shaped_target(self.target, shape), self.mode, argnums,
                                        self.request.optimize, self.request.has_aux, self.request.backend,
                                        self.request.cache_dir, self.request.inline)
        return shapes[shape]

    __s2sad_for_shape__ = for_shape

    def built(self, kinds: tuple | None = None, shapes: tuple | None = None) -> Built:
        """The compiled derivative, specialised to the kinds of the arguments (None: generic) and
        to the shapes of the array arguments (None: any shape)."""
        built = self._by_kinds.get((kinds, shapes))
        if built is None or not built.valid_for(self._plain):
            request = replace(self.request, kinds=kinds, shapes=shapes)
            built = self._by_kinds[(kinds, shapes)] = cache.get(self.target, request)
        return built

    def source_for(self, *args, **kwargs) -> str:
        """The code a call with these arguments runs (specialised to their kinds and shapes)."""
        if self._shapes is not None:
            shape, kwargs = call_shape(self.target, args, kwargs)
            return self.for_shape(shape).source_for(*args, **kwargs)
        return self.built_for(self._args(args, kwargs), kwargs).source

    def built_for(self, args: tuple, kwargs: dict) -> Built:
        """The code a call with `args` (`self` first for a bound method) and `kwargs` runs."""
        kinds = tuple(map(_kind, args)) + trailing_kinds(self.target, len(args), kwargs)
        shapes = tuple(map(_shape, args))
        built = self._by_kinds.get((kinds, shapes if any(shapes) else None))
        if built is not None and built.valid_for(self._plain):
            return built  # the hot path: a shape seen before
        return self.built(kinds, self._signature(kinds, args))

    def _signature(self, kinds: tuple, args: tuple) -> tuple | None:
        """The shapes of the array arguments, while this derivative has been specialised to fewer
        than `MAX_SIGNATURES` of them for these kinds; past that, None (code for any shape)."""
        shapes = tuple(map(_shape, args))
        if not any(shapes):
            return None
        seen = self._signatures.setdefault(kinds, set())
        if shapes not in seen:
            if len(seen) >= MAX_SIGNATURES:
                return None
            seen.add(shapes)
        return shapes

    @property
    def source(self) -> str:
        """The code for numeric arguments (floats or arrays of any shape); calls with arguments
        of known kinds (all floats, say) run code specialised further. A variadic function's:
        the code for a call with no extra arguments."""
        if self._shapes is not None:
            return self.for_shape((0, ())).source
        return self.built(self.numeric_kinds()).source

    @property
    def compile_seconds(self) -> float:
        """With `backend="numba"`: the seconds Numba has spent compiling this derivative so far
        (once per signature of the arguments, at the first call with it); 0.0 otherwise."""
        total = sum(getattr(built.fun, "compile_seconds", 0.0) for built in self._by_kinds.values())
        return total + sum(shaped.compile_seconds for shaped in (self._shapes or {}).values())

    def numeric_kinds(self) -> tuple[str, ...]:
        """"array" (a number or an array, not a container) for each parameter."""
        return ("array",) * (len(self.target.params) + (self._bound is not UNBOUND))

    @property
    def __s2sad_source_function__(self) -> Callable[..., Any]:
        if self._shapes is not None:  # a derivative of it is variadic too, and asks `for_shape`
            return self.target.plain
        fun = self.built().fun
        return getattr(fun, "python", fun)  # Numba's: the Python function it compiled

    @property
    def __s2sad_bound__(self) -> object:
        """The `self` of a derivative of a bound method (its generated code takes it first)."""
        return self._bound

    def show(self) -> str:
        print(self.source, end="")
        return self.source

    def _args(self, args: tuple, kwargs: dict, plain: bool = False) -> tuple:
        """`args` checked (`plain`: those by position are known float64 already), with the bound
        `self` first."""
        for pos, name in zip(self._positions, self.request.wrt):
            if pos < len(args):
                if not plain:
                    _check_float(self.target, name, args[pos])
            elif name in kwargs:
                _check_float(self.target, name, kwargs[name])
        return args if self._bound is UNBOUND else (self._bound, *args)

    def _all_float64(self, args: tuple, offset: int) -> bool:
        """Every differentiated argument given by position is a float64 (see `_float64`);
        `offset`: 1 where `args` starts with a bound method's `self`."""
        for p in self._positions:
            if p + offset < len(args) and not _float64(args[p + offset]):
                return False
        return True

    def __call__(self, *args, **kwargs):
        last, n = self._last, len(args)
        if n == last[0] and not kwargs and type(args[0]) is last[1] and (n == 1 or type(args[1]) is last[2]):
            built = last[3]  # (the types of numbers decide the code: see `_fast_key`)
        elif self._fast and not kwargs:
            built = self._fast_entry(args, n)
        else:
            built = None
        if built is not None and (built.guard or built.still_valid)():  # (never a bound method's)
            try:
                result = built.fun(*args)
            except Exception as err:
                raise trimmed(self._located(err, built))  # noqa: B904 - the same error
            if not self._gradients or type(result) is float:
                return result
            return self._match_dtypes(result, args, True)
        try:
            return self._call(args, kwargs)
        except _Ran as ran:
            failed = ran.err  # an error of the generated code, at the user's line: raised below, out of this block
        except S2SADError as err:
            raise trimmed(err)  # noqa: B904 - the same error
        raise trimmed(failed)

    def _fast_entry(self, args: tuple, n: int) -> Built | None:
        """The code `_fast` holds for a call by position, by the arguments' types where they are
        numbers (kept in `_last` for one or two), else by `_fast_key`."""
        kinds = (type(args[0]),) if n == 1 else (type(args[0]), type(args[1])) if n == 2 else tuple(map(type, args))
        built = self._fast.get(kinds)
        if built is None:
            return self._fast.get(_fast_key(args))
        if 0 < n <= 2:
            self._last = (n, kinds[0], kinds[-1], built)
        return built

    def _call(self, args: tuple, kwargs: dict):
        """A call the fast path above does not take: find (or build) the code for it."""
        self._last = (0, None, None, None)  # (the code it held may be out of date)
        if self._shapes is not None:
            shape, kwargs = call_shape(self.target, args, kwargs)
            return self.for_shape(shape)(*args, **kwargs)
        plain = self._all_float64(args, 0)
        given = args
        args = self._args(args, kwargs, plain)
        built = self.built_for(args, kwargs)
        if plain and not kwargs and len(self._fast) < _MAX_FAST and self._bound is UNBOUND:
            key = _fast_key(given)
            if key is not None and built.origin is self._plain:
                self._fast[key] = built
        return self._run(built, args, kwargs, plain)

    def _run(self, built: Built, args: tuple, kwargs: dict, plain: bool):
        """The generated code on `args` (`self` first for a bound method), its errors located."""
        try:
            result = built.fun(*args, **kwargs)
        except Exception as err:
            raise _Ran(self._located(err, built)) from None
        if not self._gradients or plain and type(result) is float:
            return result  # a float's gradient at a float: nothing to cast (the common case, first)
        return self._match_dtypes(result, args, plain)

    def _located(self, err: Exception, built: Built) -> Exception:
        """`err`, raised in `built`'s code, located at the user's line."""
        if isinstance(err, NonScalarOutput):
            return NonScalarOutput(err.message, _where(self.target), err.hint).with_traceback(err.__traceback__)
        _locate(err, built)
        setattr(err, USER_CODE, True)
        return err

    def _match_dtypes(self, result, args: tuple, plain: bool):
        """A gradient has the dtype of its argument (float32 stays float32), leaf by leaf;
        `plain`: the arguments by position are float64 (see `_all_float64`)."""
        offset = self._bound is not UNBOUND
        if plain and not _any_complex(result[1] if self.mode == VALUE_AND_GRAD else result):
            return result  # float64 in, float64 out: nothing to cast (the common case, first)
        wanted = [args[p + offset] if p + offset < len(args) else None for p in self._positions]
        grads = result[1] if self.mode == VALUE_AND_GRAD else result
        aux = None
        if self.request.has_aux and self.mode == GRAD:
            grads, aux = result
        grads = [grads] if self.request.single else list(grads)
        grads = [map_structure(_cast, g, w) if w is not None else g for g, w in zip(grads, wanted)]
        grads = grads[0] if self.request.single else tuple(grads)
        if self.mode == VALUE_AND_GRAD:
            return result[0], grads
        return (grads, aux) if aux is not None or self.request.has_aux else grads

    def __repr__(self) -> str:
        return f"<s2sad.{self.mode} of {_name(self.fun)} wrt {', '.join(self.request.wrt)}>"


def _decorator(mode: str, fun: Callable | None, **options):
    if fun is None:
        return lambda f: Transformed(f, mode, **options)
    return Transformed(fun, mode, **options)


@user_facing
def grad(fun: Callable | None = None, argnums: Argnums = 0, *, has_aux: bool = False,
         optimize: bool = True, backend: str = "python", cache_dir: Any = None) -> Callable[..., Any]:
    """The gradient of a function with a scalar output, by reverse mode.

    A plain call (`grad(f)`, `grad(f, 1)`), a bare decorator (`@grad`) or a decorator with
    options (`@grad(argnums="w")`). The derivative is generated, compiled and cached at its first
    call with arguments of a new kind (numbers, arrays) or array shape.

    Args:
        fun: The function, defined with `def` (or `lambda`) in source s2sad can read. Left out,
            `grad` returns a decorator.
        argnums: What to differentiate: a parameter's position (negative counts from the end),
            its name, or a tuple of those, which gives a tuple of gradients.
        has_aux: `fun` returns a pair `(output, aux)`: `output` is differentiated, `aux` is
            passed through, and the result is `(gradient, aux)`.
        optimize: Run the optimizer on the generated code; False keeps the transform's direct
            output, one statement per adjoint term.
        backend: "python" (the generated code runs as Python and NumPy) or "numba" (it is
            compiled by Numba in nopython mode at the first call with each signature; see
            docs/numba.md). The derivative then has `.compile_seconds`.
        cache_dir: With `backend="numba"`, a folder for Numba's on-disk cache: a later process
            loads the machine code instead of compiling it again. By default nothing is
            written to disk.

    Returns:
        A function of `fun`'s arguments returning the gradient, which has the structure, shape
        and dtype of its argument (float32 stays float32). It has `.fun` (the original),
        `.source` (the generated code) and `.show()`. Without `fun`, a decorator making one.

    Raises:
        ArgnumsError: `argnums` names a parameter twice, a position out of range or a name
            `fun` does not have (raised by `grad` itself).
        NoSource: `fun` has no Python source s2sad can read (a builtin, say).
        IntegerArgument: A differentiated argument is an integer (raised by the call).
        NonScalarOutput: The output is not one number (raised by the call): see `jacrev`, `vjp`.
        UnsupportedSyntax: `fun` uses a construct s2sad does not differentiate.
        BackendError: `backend="numba"` without Numba installed (raised by `grad`), or a
            construct the Numba backend does not compile yet (raised by the call).

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y + x ** 2
        >>> s2sad.grad(f)(1.0, 3.0)
        5.0
        >>> s2sad.grad(f, argnums=(0, "y"))(1.0, 3.0)
        (5.0, 1.0)
        >>> @s2sad.grad
        ... def square(x):
        ...     return x * x
        >>> square(3.0)
        6.0
    """
    return _decorator(GRAD, fun, argnums=argnums, optimize=optimize, has_aux=has_aux, backend=backend,
                      cache_dir=cache_dir)


@user_facing
def value_and_grad(fun: Callable | None = None, argnums: Argnums = 0, *, has_aux: bool = False,
                   optimize: bool = True, backend: str = "python", cache_dir: Any = None) -> Callable[..., Any]:
    """The value of a function with a scalar output and its gradient, from one pass.

    `value_and_grad(f)(*args)` is `(f(*args), grad(f)(*args))`, the pair that
    `scipy.optimize.minimize(..., jac=True)` asks for.

    Args:
        fun: The function, as for `grad`. Left out, `value_and_grad` returns a decorator.
        argnums: What to differentiate: a position, a parameter's name, or a tuple of those.
        has_aux: `fun` returns `(output, aux)`; the result is then `((output, aux), gradient)`.
        optimize: Run the optimizer on the generated code.
        backend: "python" or "numba", as for `grad`.
        cache_dir: Numba's on-disk cache, as for `grad`.

    Returns:
        A function of `fun`'s arguments returning `(value, gradient)`, with `.fun`, `.source`
        and `.show()` as for `grad`. Without `fun`, a decorator making one.

    Raises:
        ArgnumsError: `argnums` does not name parameters of `fun` (raised by `value_and_grad`).
        IntegerArgument: A differentiated argument is an integer (raised by the call).
        NonScalarOutput: The output is not one number (raised by the call).

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y
        >>> s2sad.value_and_grad(f)(2.0, 3.0)
        (6.0, 3.0)
    """
    return _decorator(VALUE_AND_GRAD, fun, argnums=argnums, optimize=optimize, has_aux=has_aux, backend=backend,
                      cache_dir=cache_dir)


def float_positions(primals: Sequence) -> list[int]:
    """Positions of the arguments that are differentiable (not integers, not holding an object
    whose fields s2sad does not know: its attributes are constants)."""
    return [i for i, p in enumerate(primals) if not isinstance(p, (bool, numbers.Integral))
            and not (isinstance(p, np.ndarray) and not np.issubdtype(p.dtype, np.inexact)) and not _holds_object(p)]


def _holds_object(value: object) -> bool:
    if isinstance(value, (float, np.ndarray)):
        return False
    leaves: list = []
    map_structure(leaves.append, value)
    return any(_plain_object(leaf) for leaf in leaves)


def _shapes(tree: object) -> object:
    """The shape of an array or number; for a container, the shapes of its leaves."""
    if isinstance(tree, (np.ndarray, np.generic, float, int)):
        return np.shape(tree)
    if foreign_array(tree):
        return tuple(cast(Any, tree).shape)  # a Dask or CuPy array's shape, read (never computed)
    leaves: list = []
    map_structure(lambda leaf: leaves.append(np.shape(leaf) if leaf is not None else None), tree)
    return leaves


@user_facing
def jvp(fun: Callable, primals: Sequence, tangents: Sequence, *, backend: str = "python",
        cache_dir: Any = None) -> tuple[Any, Any]:
    """Forward mode: the value of a function and its derivative along a direction.

    Args:
        fun: The function, as for `grad`.
        primals: The arguments, a tuple (or list) with one value per parameter; parameters
            with defaults at the end may be left out, and integer arguments are constants.
        tangents: The direction: one tangent per primal, each of its primal's shape.
        backend: "python" or "numba", as for `grad`.
        cache_dir: Numba's on-disk cache, as for `grad`.

    Returns:
        `(fun(*primals), J @ tangents)`: the output and its tangent, of the output's structure
        (a tuple of tangents for a function returning a tuple).

    Raises:
        UsageError: `primals` or `tangents` is not a tuple or list.
        TypeError: `primals` and `tangents` differ in number, or do not fit `fun`'s parameters.
        ValueError: A tangent's shape is not its primal's.
        IntegerArgument: Every primal is an integer: there is nothing to differentiate.

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y
        >>> s2sad.jvp(f, (2.0, 3.0), (1.0, 0.0))
        (6.0, 3.0)
    """
    along = getattr(fun, "__s2sad_along__", None)
    if along is not None:  # a Jacobian s2sad built in Python: its own forward mode
        return along(tuple(primals), tuple(tangents))
    target = target_of(fun)
    _refuse_star_wrapper(target)
    given: Any
    for what, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (tuple, list)):
            raise UsageError(f"jvp takes its {what} as a tuple (one value per argument), not a {type(given).__name__}",
                             caller(), hint="write jvp(f, (x,), (v,)) for a function of one argument")
    primals, tangents = tuple(primals), tuple(tangents)
    if is_variadic(target):
        target = shaped_target(target, call_shape(target, primals, {})[0])
    params, given = list(target.params), len(primals)
    defaults = _defaults(target)
    if len(primals) != len(tangents) or not len(params) - len(defaults) <= given <= len(params):
        raise TypeError(f"jvp: {_name(fun)} takes {len(params)} arguments; got "
                        f"{len(primals)} primals and {len(tangents)} tangents")
    primals += tuple(defaults[name] for name in params[given:])  # left out: constants, their defaults
    positions = [i for i in float_positions(primals) if i < given]
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if i in positions and _shapes(p) != _shapes(t):
            raise ValueError(f"jvp: tangent {i} has shape {_shapes(t)}, its primal {_shapes(p)}")
    if not positions:
        raise IntegerArgument(f"jvp: every primal of {_name(fun)} is an integer; nothing to differentiate")
    transformed = Transformed(target, JVP, tuple(positions), backend=backend, cache_dir=cache_dir)
    return transformed(*primals, *(tangents[i] for i in positions))


@user_facing
def vjp(fun: Callable, *primals: Any, backend: str = "python",
        cache_dir: Any = None) -> tuple[Any, Callable[[Any], tuple]]:
    """Reverse mode: the value of a function and its pullback (vector-Jacobian product).

    Unlike `grad`, the output may be of any shape or structure.

    Args:
        fun: The function, as for `grad`.
        *primals: Its arguments; integer arguments are constants.
        backend: "python" or "numba" (both sweeps compiled), as for `grad`.
        cache_dir: Numba's on-disk cache, as for `grad`.

    Returns:
        `(fun(*primals), pullback)`. `pullback(cotangent)`, given a cotangent of the output's
        structure and shapes (None is a zero), returns a tuple with one cotangent per primal
        (None for an integer primal). It may be called any number of times.

    Raises:
        IntegerArgument: Every primal is an integer: there is nothing to differentiate.
        CotangentError: (from `pullback`) the cotangent's structure or shape is not the
            output's.

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y
        >>> out, pullback = s2sad.vjp(f, 2.0, 3.0)
        >>> out, pullback(1.0)
        (6.0, (3.0, 2.0))
    """
    return vjp_with(fun, primals, {}, backend, cache_dir)


def vjp_with(fun: object, primals: tuple, kwargs: dict, backend: str = "python",
             cache_dir: Any = None) -> tuple[Any, Callable[[Any], tuple]]:
    """`vjp(fun, *primals)` with keyword arguments `kwargs` passed to `fun` (constants)."""
    positions = float_positions(primals)
    if not positions:
        raise IntegerArgument(f"vjp: every primal of {_name(fun)} is an integer; nothing to differentiate")
    target = target_of(fun)
    if is_variadic(target):
        shape, kwargs = call_shape(target, primals, kwargs)
        fun = shaped_target(target, shape)
    transformed = Transformed(fun, VJP, tuple(positions), backend=backend, cache_dir=cache_dir)
    out, residuals = transformed(*primals, **kwargs)  # the primal sweep: `f_fwd`
    built = transformed.built_for(transformed._args(primals, kwargs), kwargs)

    def pullback(cotangent):
        cotangent = _check_cotangent(fun, out, cotangent)
        try:
            grads = built.bwd(residuals, cotangent)  # type: ignore[misc]  # a vjp's code has its adjoint sweep
        except Exception as err:
            _locate(err, built)
            raise
        found = {i: map_structure(_cast, g, primals[i]) for i, g in zip(positions, grads)}
        return tuple(found.get(i) for i in range(len(primals)))

    return out, pullback


def bind(target: Target, args: tuple | list, kwargs: dict) -> tuple[tuple, dict]:
    """The call `fun(*args, **kwargs)` with the keywords that name positional parameters moved
    into place (a parameter left out before one given by keyword takes its default), and the
    keywords left (keyword-only parameters)."""
    params = target.params
    named = [i for i, name in enumerate(params) if i >= len(args) and name in kwargs]
    if not named:
        return tuple(args), kwargs
    args, kwargs = list(args), dict(kwargs)
    for name in params[len(args): max(named) + 1]:
        args.append(kwargs.pop(name) if name in kwargs else _default(target, name))
    return tuple(args), kwargs


def complete(target: Target, args: tuple) -> tuple:
    """`args` with the parameters left out at the end given their defaults (the generated code
    of a jvp takes the tangents after every primal)."""
    return tuple(args) + tuple(_default(target, name) for name in target.params[len(args):])


def _default(target: Target, name: str) -> object:
    defaults = _defaults(target)
    if name not in defaults:
        raise TypeError(f"{_name(target)}() missing the argument {name!r}")
    return defaults[name]


def _check_cotangent(fun: object, out: Any, cotangent: Any, path: str = "the cotangent") -> Any:
    """`cotangent` if it has the structure and shapes of `out` (a list of numbers where `out` is
    an array is made an array; None is a zero anywhere), else a `CotangentError` naming what is expected."""
    if cotangent is None:
        return zeros_like(out)
    expected = _describe(out)
    problem = None
    if isinstance(out, (tuple, list, dict)) or (dataclasses.is_dataclass(out) and not isinstance(out, type)):
        # (mypy narrows `cotangent` to every structure `out` may be, not to the one it is)
        if type(cotangent) is not type(out):
            problem = f"is {_describe(cotangent)}"
        elif isinstance(out, dict) and set(cotangent) != set(out):  # type: ignore[arg-type]
            problem = f"has the keys {', '.join(sorted(map(repr, cotangent)))}"  # type: ignore[arg-type]
        elif isinstance(out, (tuple, list)) and len(cotangent) != len(out):  # type: ignore[arg-type]
            problem = f"has {len(cotangent)} items"  # type: ignore[arg-type]
        if problem is None:
            return _map_pairs(fun, out, cotangent, path)
    else:
        numbers = isinstance(cotangent, (tuple, list)) and isinstance(out, np.ndarray) and _all_numbers(cotangent)
        if numbers and np.shape(cotangent) == out.shape:
            cotangent = np.asarray(cotangent)
        if isinstance(cotangent, (tuple, list, dict)) or np.shape(cotangent) != np.shape(out):
            problem = f"is {_describe(cotangent)}"
    if problem is not None:
        where = _where(fun)
        raise CotangentError(f"pullback of {_name(fun)}: {path} {problem}, but the output is {expected}", where,
                             hint="pass a cotangent with the structure and shapes of the function's output")
    return cotangent


def _map_pairs(fun: object, out: Any, cotangent: Any, path: str) -> Any:
    if isinstance(out, dict):
        return {k: _check_cotangent(fun, out[k], cotangent[k], f"{path}[{k!r}]") for k in out}
    if isinstance(out, (tuple, list)):
        items = [_check_cotangent(fun, o, c, f"{path}[{i}]") for i, (o, c) in enumerate(zip(out, cotangent))]
        if isinstance(out, list):
            return items
        return type(out)(*items) if hasattr(out, "_fields") else tuple(items)
    fields = {f.name: _check_cotangent(fun, getattr(out, f.name), getattr(cotangent, f.name), f"{path}.{f.name}")
              for f in dataclasses.fields(out)}
    return dataclasses.replace(cotangent, **fields)


def _all_numbers(items: object) -> bool:
    if isinstance(items, (tuple, list)):
        return all(_all_numbers(item) for item in items)
    return isinstance(items, (numbers.Number, np.generic))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with the keys {', '.join(sorted(map(repr, value)))}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"a {type(value).__name__}"
    if np.shape(value) == ():
        return f"a number ({type(value).__name__})"
    return f"a {type(value).__name__} of shape {np.shape(value)}"


class Taylor:
    """`taylor(fun, order, argnums)`: called as `(primals, series)`, see `taylor`."""

    def __init__(self, fun: Callable, order: int, argnums: Argnums) -> None:
        if not isinstance(order, numbers.Integral) or order < 1:
            raise ValueError(f"taylor: order must be an integer of at least 1, not {order!r}")
        self.order: int = int(order)
        self.transformed: Transformed = Transformed(fun, taylor_mode(order), argnums)
        self.fun: Callable = self.transformed.fun
        functools.update_wrapper(self, self.fun, updated=())

    def __call__(self, primals: Sequence, series: Sequence):
        primals, series = tuple(primals), tuple(series)
        wanted = len(self.transformed._positions)
        if len(series) != wanted:
            raise TypeError(f"taylor: {_name(self.fun)} is expanded in {wanted} argument(s); got {len(series)} "
                            "series (give one sequence of coefficients per differentiated argument)")
        coefs = []
        for i, terms in zip(self.transformed._positions, series):
            terms = list(terms)
            if len(terms) != self.order:
                raise ValueError(f"taylor: the series of argument {i} has {len(terms)} coefficients; "
                                 f"order {self.order} needs {self.order}")
            coefs.append(Series(terms))
        out, out_series = self.transformed(*primals, *coefs)
        return out, list(out_series)

    @property
    def source(self) -> str:
        return self.transformed.source

    def show(self) -> str:
        return self.transformed.show()

    def __repr__(self) -> str:
        return f"<s2sad.taylor of {_name(self.fun)} to order {self.order}>"


@user_facing
def taylor(fun: Callable, order: int = 2, argnums: Argnums = 0) -> Taylor:
    """Taylor mode: truncated Taylor series carried through one forward pass.

    `taylor(fun, order=K)(primals, series) -> (out, [c_1, ..., c_K])`. `primals` are `fun`'s
    arguments; `series` has, for each argument in `argnums`, its K Taylor coefficients along a
    path x(t) = x + x_1·t + ... + x_K·t^K (a straight line x + t·v is `(v, 0, ..., 0)`). The
    result is `fun`'s value and the K Taylor coefficients of `fun(x(t))` at t = 0 (the k-th
    derivative divided by k!, not the derivative: see docs/higher-order.md), each shaped like
    the value. The cost grows as K², not 2^K.

    Args:
        fun: The function, as for `grad`.
        order: K, the number of coefficients, at least 1.
        argnums: The arguments that move along the path: a position, a name or a tuple.

    Returns:
        A `Taylor` object, called as `(primals, series)`, with `.source` and `.show()`.

    Raises:
        ValueError: `order` is not an integer of at least 1; (from the call) a series does not
            have `order` coefficients.
        TypeError: (from the call) the number of series is not the number of arguments in
            `argnums`.
        MissingRule: An operation of `fun` has no Taylor rule to this order.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     return np.exp(2.0 * x)
        >>> value, coefficients = s2sad.taylor(f, order=3)((0.0,), ((1.0, 0.0, 0.0),))
        >>> float(value), [float(c) for c in coefficients]  # 2^k / k!
        (1.0, [2.0, 2.0, 1.3333333333333333])
    """
    return Taylor(fun, order, argnums)


@user_facing
def derivatives(fun: Callable, order: int = 2, argnums: Argnums = 0) -> Callable:
    """The value and the first K derivatives of a function along x + t, from one Taylor pass.

    `derivatives(fun, order=K)(x, ...) -> (f, f', f'', ..., f^(K))`: the Taylor coefficients
    times k!. On an array x every entry moves with speed 1, so for a function acting entry by
    entry these are the derivatives of each entry.

    Args:
        fun: The function, as for `grad`.
        order: K, the highest derivative, at least 1.
        argnums: The one argument that moves: a position or a name.

    Returns:
        A function of `fun`'s arguments returning the tuple `(f, f', ..., f^(K))`.

    Raises:
        ArgnumsError: `argnums` names more than one argument (use `taylor` for several).
        ValueError: `order` is not an integer of at least 1.

    Examples:
        >>> import s2sad
        >>> def f(x):
        ...     return x ** 3
        >>> [float(d) for d in s2sad.derivatives(f, order=4)(2.0)]
        [8.0, 12.0, 12.0, 6.0, 0.0]
    """
    expand = Taylor(fun, order, argnums)
    if len(expand.transformed._positions) != 1:
        raise ArgnumsError("derivatives: give one argument to differentiate (argnums=0, say); "
                           "use s2sad.taylor to expand in several")

    @functools.wraps(expand.fun)
    def along(*args):
        x = args[expand.transformed._positions[0]]
        speed = zeros_like(x) + 1.0
        out, coefs = expand(args, ([speed] + [zeros_like(x)] * (order - 1),))
        return (out, *(math.factorial(k) * c for k, c in enumerate(coefs, 1)))

    along.taylor = expand  # type: ignore[attr-defined]  # an attribute of the function made here
    return along


STAGES = ("final", "ir", "activity", "graph")
"""What `show` prints: the derivative's code, the function's Wengert list, which of its
values carry a derivative, or its computational graph (DOT text for Graphviz)."""


@user_facing
def show(fun: Callable, *, mode: str = REVERSE, argnums: Argnums = 0, optimize: bool = True,
         args: Sequence | None = None, order: int = 2, stage: str = "final", kinds: Sequence[str] | None = None,
         shapes: Sequence[tuple | None] | None = None, backend: str = "python") -> str:
    """The generated source of a function's derivative: what `s2sad show` prints.

    Without `args`, `kinds` or `shapes`, the code for floats or arrays of any shapes (the
    derivative's `.source`); with them, the code a call with such arguments runs.

    Args:
        fun: The function, as for `grad`.
        mode: "reverse" (the code `grad` runs), "forward" (`jvp`) or "taylor" (`taylor` to
            `order`).
        argnums: What to differentiate, as for `grad`.
        optimize: Run the optimizer on the generated code.
        args: Example arguments for `fun`: the code is specialised to their kinds and to the
            shapes of their arrays.
        order: The order of Taylor mode (`mode="taylor"`).
        stage: "final" (the derivative's code), "ir" (the Wengert list s2sad lowers `fun`
            to) or "activity" (which of its values carry a derivative).
        kinds: Instead of `args`: "scalar" or "array" per parameter.
        shapes: With `kinds`: an array's shape, or None, per parameter.
        backend: "python" or "numba": the code handed to Numba (for a call with `args` or
            of `kinds`/`shapes`).

    Returns:
        The source text, valid Python.

    Raises:
        ValueError: An unknown `mode` or `stage`, or both `args` and `kinds`/`shapes`.
        ArgnumsError: `argnums` does not name parameters of `fun`.

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y
        >>> print(s2sad.show(f, stage="ir"), end="")
        def f(x, y):
            t1 = x * y
            return t1
    """
    if mode not in DIRECTIONS and mode != TAYLOR:
        raise ValueError(f"show: mode must be 'reverse', 'forward' or 'taylor', not {mode!r}")
    if stage not in STAGES:
        raise ValueError(f"show: stage must be one of {', '.join(map(repr, STAGES))}, not {stage!r}")
    if args is not None and (kinds is not None or shapes is not None):
        raise ValueError("show: give example args, or kinds (and shapes), not both")
    if backend != "python" and mode == TAYLOR:
        raise ValueError("show: the numba backend compiles reverse and forward mode, not taylor")
    transformed = Transformed(fun, taylor_mode(order) if mode == TAYLOR else DIRECTIONS[mode], argnums, optimize,
                              backend=backend)
    if args is not None:
        args = tuple(args)
        if mode != REVERSE:  # the forward-mode code takes the tangents after the primals
            args += tuple(Series([args[i]] * order) if mode == TAYLOR else args[i] for i in transformed._positions)
        built = transformed.built_for(transformed._args(args, {}), {})
    elif kinds is None and shapes is None and stage == "final":
        return transformed.source
    else:
        built = transformed.built(*_show_signature(transformed, mode, kinds, shapes))
    if stage == "ir":
        return printer.format_function(built.primal)
    if stage == "graph":
        kind = {REVERSE: "adjoint", TAYLOR: "taylor"}.get(mode, "tangent")
        return graph.to_dot(built.primal, built.activity.active, built.derivative, kind)
    return built.activity.format() if stage == "activity" else built.source


def _show_signature(transformed: Transformed, mode: str, kinds: Sequence[str | None] | None,
                    shapes: Sequence[tuple | None] | None) -> tuple[tuple, tuple | None]:
    """The kinds and shapes `show` builds for: a forward or Taylor derivative takes its tangents
    (coefficients) after the primals."""
    kinds = tuple(kinds) if kinds is not None else transformed.numeric_kinds()
    if shapes is None or all(s is None for s in shapes):
        return kinds, None
    shapes = tuple(shapes)
    if mode != REVERSE:
        kinds += tuple(None if mode == TAYLOR else kinds[i] for i in transformed._positions)
        shapes += tuple(None if mode == TAYLOR else shapes[i] for i in transformed._positions)
    return kinds, shapes


register_face({GRAD: grad, VALUE_AND_GRAD: value_and_grad, JVP: jvp}, Transformed)

