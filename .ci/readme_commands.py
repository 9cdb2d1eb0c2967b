"""Print the README's N-th ```bash block under "## Set up" (CI runs exactly what users run)."""

import re
import sys
from pathlib import Path

text = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
section = text[text.index("## Set up"):]
section = section[:section.index("\n## ", 1)]
blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
assert len(blocks) == 2, f"the README's set-up section must have exactly two bash blocks, not {len(blocks)}"
print(blocks[int(sys.argv[1]) - 1])
