"""`python -m s2sad show TARGET`: the same as the `s2sad` command."""

from s2sad.cli import main

raise SystemExit(main())
