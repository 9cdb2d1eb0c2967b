"""One loop and one branch whose derivative code is pinned as golden text
(tests/test_golden_flow.py, tests/golden/flow_*.txt). Line numbers appear in the provenance
comments: add new functions at the end."""

import numpy as np


def loop(x, n):
    y = x
    for i in range(n):
        y = np.sin(y) * x + i
    return y


def branch(x, y):
    if x > y:
        z = x * y
    else:
        z = np.exp(x - y)
    return z + x
