"""The rule families' shared tests (`tests/rules/family.py`) take their cases from the module that
imports them."""

from tests.rules import family


def pytest_generate_tests(metafunc):
    family.parametrize(metafunc)
