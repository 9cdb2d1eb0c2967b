"""`s2sad show TARGET`: print the derivative code s2sad generates for a function; `s2sad export
TARGET -o file.py`: write it as a standalone module.

A small tool built on the public API, and a demonstration of it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s2sad import __version__
from s2sad.analyses.shapes import NUMBER
from s2sad.api import STAGES, show
from s2sad.core.modes import DIRECTIONS, REVERSE, TAYLOR
from s2sad.core.targets import params_of
from s2sad.errors import OutputError, S2SADError, TargetError
from s2sad.export import export


def load_target(target: str) -> Any:
    """`package.module:qualname` or `path/to/file.py:qualname` (split on the last colon)."""
    module_part, sep, qualname = target.rpartition(":")
    if not sep or not module_part or not qualname:
        raise TargetError(f"target {target!r} must look like package.module:function or path/file.py:function")
    module = _load_module(module_part)
    obj = module
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise TargetError(f"{module_part} has no {qualname!r} (no attribute {part!r})")
        obj = getattr(obj, part)
    return obj


def _load_module(spec: str):
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        path = Path(spec).resolve()
        if not path.is_file():
            raise TargetError(f"no such file: {spec}")
        sys.path.insert(0, str(path.parent))
        name = path.stem
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]  # a .py file has one
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)  # type: ignore[union-attr]  # and a loader
        except SystemExit as err:  # a script that exits at its top level: nothing to show
            del sys.modules[name]
            raise TargetError(f"cannot load {spec}: it called sys.exit({err.code!r}) while being imported",
                              hint="keep a script's work under `if __name__ == \"__main__\":`, which "
                                   "s2sad show does not run") from None
        except Exception as err:  # noqa: BLE001 - any failure of the user's module is reported
            del sys.modules[name]
            raise TargetError(f"cannot load {spec}: {_describe_error(err)}") from None
        return module
    sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(spec)
    except Exception as err:  # noqa: BLE001 - any failure of the user's module is reported
        raise TargetError(f"cannot import module {spec!r}: {_describe_error(err)}") from None


def _describe_error(err: Exception) -> str:
    """One line: the exception's type and message, with the place of a syntax error."""
    if isinstance(err, SyntaxError):
        return f"{type(err).__name__} at {err.filename}:{err.lineno}: {err.msg}"
    return f"{type(err).__name__}: {err}".splitlines()[0]


def _argnums(text: str) -> int | str | tuple:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    values = [int(p) if p.lstrip("-").isdigit() else p for p in parts]
    return values[0] if len(values) == 1 else tuple(values)


def _kinds(text: str | None, fun: object) -> tuple | None:
    if text is None:
        return None
    kinds = tuple(k.strip() for k in text.split(","))
    bad = [k for k in kinds if k not in ("scalar", "array")]
    if bad:
        raise TargetError(f"--kinds takes 'scalar' or 'array' per parameter, not {bad[0]!r}")
    params = params_of(fun)
    if len(kinds) != len(params):
        raise TargetError(f"--kinds gives {len(kinds)} kinds but {getattr(fun, '__qualname__', fun)} takes "
                          f"{len(params)} parameters {params}")
    return kinds


def _shapes(text: str | None, fun: object) -> tuple[tuple, tuple] | None:
    """`--shapes 32x8,10,scalar,float,-`: per parameter, an array's shape (`()` for a 0-d array),
    a number (`scalar`: a Python float or int or a NumPy scalar), a Python float or int
    (`float`), an array of any shape (`array`) or anything (`-`); the kinds and shapes."""
    if text is None:
        return None
    tokens = [t.strip() for t in text.split(",")]
    params = params_of(fun)
    if len(tokens) != len(params):
        raise TargetError(f"--shapes gives {len(tokens)} entries but {getattr(fun, '__qualname__', fun)} takes "
                          f"{len(params)} parameters {params}")
    kinds, shapes = zip(*map(_shape_token, tokens))
    return kinds, shapes


def _shape_token(token: str) -> tuple[str | None, tuple | str | None]:
    if token in ("-", "scalar", "array"):
        return {"-": None}.get(token, token), None
    if token == "()":
        return "array", ()
    if token == NUMBER:
        return "scalar", NUMBER
    dims = token.split("x")
    if not all(d.isdigit() for d in dims):
        raise TargetError(f"--shapes takes a shape such as 32x8, or scalar, float, array or -, not {token!r}")
    return "array", tuple(int(d) for d in dims)


def render(fun: Callable[..., Any], mode: str, argnums, stage: str, optimize: bool, kinds: tuple | None = None,
           shapes: tuple | None = None, order: int = 2, backend: str = "python") -> str:
    """The text `s2sad show` prints: `s2sad.show` with the command line's options."""
    return show(fun, mode=mode, argnums=argnums, optimize=optimize, order=order, stage=stage, kinds=kinds,
                shapes=shapes, backend=backend)


GRAPHVIZ_FORMATS = ("svg", "png", "pdf")
"""The `--output` suffixes that `--stage graph` renders with Graphviz's `dot` (others get the text)."""


def write_output(text: str, path: str, stage: str) -> None:
    """`--output`: the graph rendered by Graphviz for a .svg, .png or .pdf file; else the text."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if stage == "graph" and fmt in GRAPHVIZ_FORMATS:
        render_dot(text, path, fmt)
        return
    try:
        Path(path).write_text(text)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None


def render_dot(text: str, path: str, fmt: str) -> None:
    """Run `dot -T<fmt> -o path` on the DOT text."""
    program = shutil.which("dot")
    if program is None:
        raise OutputError(f"cannot render {path}: Graphviz's dot program is not installed (apt install graphviz / "
                          "brew install graphviz / conda install graphviz), or write the DOT text with -o file.dot")
    done = subprocess.run([program, f"-T{fmt}", "-o", path], input=text, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        raise OutputError(f"dot could not render {path}: {detail}")


def colorize(text: str, when: str) -> str:
    """Colour with Pygments when asked (`always`) or on a terminal (`auto`); never with NO_COLOR."""
    wanted = when == "always" or (when == "auto" and sys.stdout.isatty())
    if not wanted or os.environ.get("NO_COLOR"):
        return text
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        if when == "always":
            print("s2sad: warning: --color always needs Pygments (pip install pygments); printing plain text",
                  file=sys.stderr)
        return text
    return highlight(text, PythonLexer(), TerminalFormatter())


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="s2sad", description="Source-to-source automatic differentiation.")
    top.add_argument("--version", action="version", version=f"s2sad {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the derivative code generated for a function")
    add_derivative_options(show)
    show.add_argument("--stage", choices=STAGES, default="final",
                      help="final (the derivative's code, the default), ir (the function's Wengert list), "
                           "activity (which of its values carry a derivative) or graph (the computational graph "
                           "and its adjoint or tangent operations, as Graphviz DOT text)")
    show.add_argument("--backend", choices=("python", "numba"), default="python",
                      help="python (the default) or numba: the code handed to Numba (pip install s2sad[numba])")
    show.add_argument("-o", "--output", default=None, metavar="FILE",
                      help="write to FILE instead of printing; with --stage graph, a .svg, .png or .pdf FILE is "
                           "drawn by Graphviz's dot program (a .dot or .gv FILE gets the DOT text)")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the code with Pygments (pip install s2sad[color]): always, never, or auto "
                           "(on a terminal; the default); NO_COLOR turns it off")
    exporter = sub.add_parser("export", help="write the derivative as a standalone module (needs numpy only)")
    add_derivative_options(exporter)
    exporter.add_argument("-o", "--output", default=None, help="the file to write (default: print it)")
    return top


def add_derivative_options(command: argparse.ArgumentParser) -> None:
    """The options `show` and `export` share: the target and which derivative to build."""
    command.add_argument("target", help="package.module:function or path/to/file.py:function")
    command.add_argument("--mode", choices=(*DIRECTIONS, TAYLOR), default=REVERSE,
                         help="reverse (grad, the default), forward (jvp) or taylor (Taylor coefficients to --order)")
    command.add_argument("--order", type=int, default=2, help="with --mode taylor: the order K of the Taylor "
                                                               "coefficients computed (default 2)")
    command.add_argument("--argnums", default="0", help="positions or names, comma separated: 0,1 or w,b")
    command.add_argument("--kinds", default=None,
                         help="scalar or array per parameter, comma separated (e.g. scalar,array): the code "
                              "specialised to such arguments; by default, the code for floats or arrays of any "
                              "shapes")
    command.add_argument("--shapes", default=None,
                         help="per parameter, comma separated: an array's shape (32x8), scalar, float (a Python "
                              "float or int), array or - (anything): the code specialised to arguments of these "
                              "shapes, as a call with them runs it")
    command.add_argument("--no-optimize", action="store_true", help="the code before optimization")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        fun = load_target(args.target)
        kinds, shapes = _signature(args, fun)
        if args.command == "export":
            text = export(fun, args.output, mode=args.mode, argnums=_argnums(args.argnums), kinds=kinds,
                          shapes=shapes, order=args.order, optimize=not args.no_optimize)
        else:
            text = render(fun, args.mode, _argnums(args.argnums), args.stage, not args.no_optimize, kinds, shapes,
                          args.order, args.backend)
            if args.output is not None:
                write_output(text, args.output, args.stage)
                return 0
    except S2SADError as err:
        print(f"s2sad: error: {_one_line(err)}", file=sys.stderr)
        return 1
    if args.command == "export":
        if args.output is None:
            sys.stdout.write(text)
        return 0
    sys.stdout.write(colorize(text, args.color))
    return 0


def _signature(args: argparse.Namespace, fun: object) -> tuple[tuple | None, tuple | None]:
    """The kinds and shapes the options ask for (checked), and that --order is a valid order."""
    kinds, shapes = _kinds(args.kinds, fun), None
    given = _shapes(args.shapes, fun)
    if given is not None:
        if kinds is not None:
            raise TargetError("give --kinds or --shapes, not both (--shapes says the kinds too)")
        kinds, shapes = given
    if args.order < 1:
        raise TargetError(f"--order must be at least 1, not {args.order}")
    return kinds, shapes


def _one_line(err: S2SADError) -> str:
    text = f"{err.where}: {err.message}" if err.where else err.message
    return text + (f" (hint: {err.hint})" if err.hint else "")


if __name__ == "__main__":
    raise SystemExit(main())
