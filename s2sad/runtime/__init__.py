"""Helpers that generated code calls. Each has a rule (`s2sad.rules.runtime_rules`, and
`s2sad.rules.containers` for the container ones) so that generated code can be differentiated
again. Keep them small and fast: they sit on the hot path. Generated code names them bare
(`unbroadcast(g, x)`); this package gathers them from its modules by kind.
"""

from s2sad.runtime.arrayops import *  # noqa: F403
from s2sad.runtime.arrays import *  # noqa: F403
from s2sad.runtime.complexes import *  # noqa: F403
from s2sad.runtime.containers import *  # noqa: F403
from s2sad.runtime.contexts import *  # noqa: F403
from s2sad.runtime.core import *  # noqa: F403
from s2sad.runtime.core import _axes  # noqa: F401
from s2sad.runtime.creation import *  # noqa: F403
from s2sad.runtime.dispatch import *  # noqa: F403
from s2sad.runtime.linalg import *  # noqa: F403
from s2sad.runtime.series import *  # noqa: F403
from s2sad.runtime.special import *  # noqa: F403
from s2sad.runtime.state import *  # noqa: F403
