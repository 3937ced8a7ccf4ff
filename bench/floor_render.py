"""The floor for markdown on a terminal: rich rendering the whole final document once.

Usage: python floor_render.py KIND TOKENS [REASONING_TOKENS]   (the answers bench/content.py gives the fake
server). With REASONING_TOKENS, a thinking model's reasoning is first written to stderr, dimmed, in one write.
"""

import sys

from content import answer
from rich.console import Console
from rich.markdown import Markdown

if len(sys.argv) > 3 and int(sys.argv[3]):
    sys.stderr.write(f"\x1b[2m{answer('reasoning', int(sys.argv[3]))}\x1b[0m\n\n")
    sys.stderr.flush()
Console().print(Markdown(answer(sys.argv[1], int(sys.argv[2]))))
