"""Rules for the helpers of calls of function values (`s2sad.runtime.dispatch`).

`value_derivative` returns derivative code, and `method_value` the function behind a method
call, which carry no derivative themselves. `call_value` has
no rule: the transforms give each call of it the derivative of the function value it calls,
looked up when the code runs (`transforms.calls`), which is how generated code that calls it is
differentiated again.
"""

from s2sad import runtime
from s2sad.rules.registry import declare, nondiff

nondiff(runtime.value_derivative, runtime.method_value)
declare(runtime.call_value, structural=True)
