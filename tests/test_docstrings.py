"""The docstrings of the public API are complete and their examples are true.

Every `>>>` example in s2sad/api.py, higher.py, custom.py, testing.py, errors.py and export.py runs (with
doctest) and prints what the docstring shows. Every public name (`s2sad.__all__` and
`s2sad.testing.check_grads`) has a docstring in Google style, which mkdocstrings renders on the
site's reference page (docs/reference.md): a summary, `Args:` for its parameters, `Returns:`,
and `Examples:`.
"""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import s2sad
import s2sad.testing
from s2sad import api, custom, errors, higher, testing

export = importlib.import_module("s2sad.export")  # (the name s2sad.export is the function)

MODULES = [api, higher, custom, testing, errors, export]
FINDER = doctest.DocTestFinder(exclude_empty=True)
EXAMPLES = [test for module in MODULES for test in FINDER.find(module) if test.examples]
PUBLIC = {name: getattr(s2sad, name) for name in s2sad.__all__} | {"check_grads": s2sad.testing.check_grads}


@pytest.mark.parametrize("test", EXAMPLES, ids=lambda test: test.name)
def test_docstring_examples_run(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_docstrings_are_complete(name):
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert doc.splitlines() and doc.splitlines()[0].strip(), f"{name} has no summary line"
    assert "Examples:" in doc and ">>> " in doc, f"{name}'s docstring has no example"
    if inspect.isclass(obj):
        return
    params = [p for p in inspect.signature(obj).parameters if p != "self"]
    if params:
        assert "Args:" in doc, f"{name}'s docstring does not describe its parameters"
        documented = doc.split("Args:")[1]
        for param in params:
            assert f"\n    {param}:" in documented or f"\n    *{param}:" in documented, \
                f"{name}'s docstring does not describe {param!r}"
    if inspect.signature(obj).return_annotation not in ("None", None):
        assert "Returns:" in doc, f"{name}'s docstring does not say what it returns"


def test_every_documented_module_has_examples():
    found = {test.name.split(".")[1] for test in EXAMPLES}
    assert found == {"api", "higher", "custom", "testing", "errors", "export"}
    assert len(EXAMPLES) >= len(PUBLIC) - 1  # jacobian is jacrev: one docstring for both
