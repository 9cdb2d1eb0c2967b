"""Core, the mode names: every stage and the face compare modes against these constants.

A request's mode names the derivative code built: `jvp` (forward mode), and the three forms of
reverse mode, `grad`, `value_and_grad` and `vjp` (a primal sweep and an adjoint sweep, split
into two functions). `show` and the command line spell the two directions `forward` and
`reverse`.
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

FORWARD = "forward"
REVERSE = "reverse"
DIRECTIONS = {REVERSE: GRAD, FORWARD: JVP}
"""`show`'s and the command line's spellings, with the mode each builds."""

FUN = "fun"
BWD = "bwd"
"""The parts of a built derivative a callee's caller reads: its code (for a vjp, the primal
sweep) and, for a vjp, its adjoint sweep."""
