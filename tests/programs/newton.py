"""A fixed number of Newton iterations inside the function: the square root of `a`."""


def newton_sqrt(a, iterations=8):
    x = 0.5 * (a + 1.0)
    for _ in range(iterations):
        x = 0.5 * (x + a / x)
    return x
