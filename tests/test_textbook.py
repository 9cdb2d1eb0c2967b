"""The textbook examples of automatic differentiation, with their known answers.

f(x1, x2) = ln(x1) + x1·x2 at (2, 5) has gradient (1/x1 + x2, x1) = (5.5, 2), by every
transform; its Wengert list is one operation per line. f(x) = x²/cos(x) at π has derivative
2π/cos(π) + π²·sin(π)/cos²(π) = -2π. Higher order: x³ has derivatives 3x², 6x, 6.
"""

import ast
import math

import pytest

import s2sad
from tests.fixtures.textbook import f, g


def cube(x):
    return x ** 3


def test_f_gradient_by_grad():
    d1, d2 = s2sad.grad(f, argnums=(0, 1))(2.0, 5.0)
    assert (d1, d2) == pytest.approx((5.5, 2.0), abs=1e-15)


def test_f_gradient_one_argument_at_a_time():
    assert s2sad.grad(f)(2.0, 5.0) == pytest.approx(5.5, abs=1e-15)
    assert s2sad.grad(f, argnums=1)(2.0, 5.0) == pytest.approx(2.0, abs=1e-15)


def test_f_value_and_grad():
    value, (d1, d2) = s2sad.value_and_grad(f, argnums=(0, 1))(2.0, 5.0)
    assert value == pytest.approx(math.log(2.0) + 10.0, abs=1e-15)
    assert (d1, d2) == pytest.approx((5.5, 2.0), abs=1e-15)


def test_f_vjp():
    out, pullback = s2sad.vjp(f, 2.0, 5.0)
    assert out == pytest.approx(math.log(2.0) + 10.0, abs=1e-15)
    assert pullback(1.0) == pytest.approx((5.5, 2.0), abs=1e-15)
    assert pullback(-2.0) == pytest.approx((-11.0, -4.0), abs=1e-15)


def test_f_gradient_by_forward_mode():
    """One jvp per input direction: the columns of the (1 x 2) Jacobian."""
    out, d1 = s2sad.jvp(f, (2.0, 5.0), (1.0, 0.0))
    _, d2 = s2sad.jvp(f, (2.0, 5.0), (0.0, 1.0))
    assert out == pytest.approx(math.log(2.0) + 10.0, abs=1e-15)
    assert (d1, d2) == pytest.approx((5.5, 2.0), abs=1e-15)
    _, both = s2sad.jvp(f, (2.0, 5.0), (3.0, -1.0))
    assert both == pytest.approx(3.0 * 5.5 - 2.0, abs=1e-14)


def test_f_wengert_list_from_the_cli(cli, golden):
    result = cli("show", "tests/fixtures/textbook.py:f", "--argnums", "0,1", "--stage", "ir")
    assert result.returncode == 0, result.stderr
    golden("textbook_f_ir.txt", result.stdout)
    tree = ast.parse(result.stdout)
    body = tree.body[0].body
    assert [type(s).__name__ for s in body] == ["Assign", "Assign", "Assign", "Return"]
    for stmt in body[:-1]:
        operations = [n for n in ast.walk(stmt.value) if isinstance(n, (ast.Call, ast.BinOp))]
        assert len(operations) == 1, ast.unparse(stmt)


def test_x_squared_over_cos_at_pi():
    assert s2sad.grad(g)(math.pi) == pytest.approx(-2 * math.pi, rel=1e-14)
    _, tangent = s2sad.jvp(g, (math.pi,), (1.0,))
    assert tangent == pytest.approx(-2 * math.pi, rel=1e-14)


@pytest.mark.parametrize("x", [0.3, 1.0, 2.0])
def test_x_squared_over_cos_closed_form(x):
    expected = 2 * x / math.cos(x) + x ** 2 * math.sin(x) / math.cos(x) ** 2
    assert s2sad.grad(g)(x) == pytest.approx(expected, rel=1e-13)


def test_second_and_third_derivative_of_cube():
    assert s2sad.grad(cube)(2.0) == pytest.approx(12.0, abs=1e-14)
    assert s2sad.grad(s2sad.grad(cube))(2.0) == pytest.approx(12.0, abs=1e-14)
    assert s2sad.grad(s2sad.grad(s2sad.grad(cube)))(2.0) == pytest.approx(6.0, abs=1e-14)


@pytest.mark.parametrize("x", [-1.5, 0.5, 2.0])
def test_jvp_of_grad_agrees_with_grad_of_grad(x):
    value, tangent = s2sad.jvp(s2sad.grad(cube), (x,), (1.0,))
    assert value == pytest.approx(3 * x ** 2, rel=1e-14)
    assert tangent == pytest.approx(s2sad.grad(s2sad.grad(cube))(x), rel=1e-14)
    assert tangent == pytest.approx(6 * x, rel=1e-14)


def test_second_derivative_of_f_in_x1():
    """d²f/dx1² = -1/x1², through the generated gradient code."""
    assert s2sad.grad(s2sad.grad(f))(2.0, 5.0) == pytest.approx(-0.25, abs=1e-15)
    cross = s2sad.grad(s2sad.grad(f), argnums=1)(2.0, 5.0)
    assert cross == pytest.approx(1.0, abs=1e-15)

