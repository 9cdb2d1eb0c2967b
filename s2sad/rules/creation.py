"""Creating arrays: zeros, ones, full, empty and their `*_like` forms, eye, identity, tri,
arange, linspace. Their results are constants: no derivative flows into them, even from an
active argument (`np.zeros_like(x)` does not depend on the values of x, and `np.full(shape, v)`
or `np.linspace(a, b)` are treated as constants by convention).
"""

import numpy as np

from s2sad.rules.registry import nondiff

nondiff(
    np.zeros, np.ones, np.full, np.empty,
    np.zeros_like, np.ones_like, np.full_like, np.empty_like,
    np.eye, np.identity, np.tri, np.arange, np.linspace,
    family="creation",
)
