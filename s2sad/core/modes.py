"""Core, the mode names: every stage and the face compare modes against these constants.

A request's mode names the derivative code built: `jvp` (forward mode), the three forms of
reverse mode, `grad`, `value_and_grad` and `vjp` (a primal sweep and an adjoint sweep, split
into two functions), and Taylor mode to order K, `taylor<K>` (`taylor_mode(K)`), whose order is
part of the mode so that it is part of every cache key and reaches callees through `derive`.
`show` and the command line spell the two directions `forward` and `reverse`, and Taylor mode
`taylor` (with its order apart).
"""

from __future__ import annotations

JVP = "jvp"
GRAD = "grad"
VALUE_AND_GRAD = "value_and_grad"
VJP = "vjp"

REVERSE_FORMS = (GRAD, VALUE_AND_GRAD, VJP)
"""The modes reverse mode builds."""
GRADIENTS = (GRAD, VALUE_AND_GRAD)
"""The modes whose result holds gradients of the arguments (cast back to their dtypes)."""

TAYLOR = "taylor"
"""The family of the Taylor modes, `taylor_mode(K)`: the key of their transform."""


def taylor_mode(order: int) -> str:
    """The mode of Taylor mode to order `order` (coefficients 1..order of the output)."""
    return f"{TAYLOR}{int(order)}"


def taylor_order(mode: str) -> int | None:
    """The order of a Taylor mode, None for any other mode."""
    rest = mode[len(TAYLOR):] if mode.startswith(TAYLOR) else ""
    return int(rest) if rest.isdigit() else None


def family(mode: str) -> str:
    """The key of the transform that builds `mode` (a Taylor mode's is `TAYLOR`)."""
    return TAYLOR if taylor_order(mode) is not None else mode


FORWARD = "forward"
REVERSE = "reverse"
DIRECTIONS = {REVERSE: GRAD, FORWARD: JVP}
"""`show`'s and the command line's spellings, with the mode each builds."""

FUN = "fun"
BWD = "bwd"
"""The parts of a built derivative a callee's caller reads: its code (for a vjp, the primal
sweep) and, for a vjp, its adjoint sweep."""
