"""The floor for markdown on a terminal: rich rendering the whole final document once.

Usage: python floor_render.py KIND TOKENS   (the same answer bench/content.py gives the fake server)
"""

import sys

from content import answer
from rich.console import Console
from rich.markdown import Markdown

Console().print(Markdown(answer(sys.argv[1], int(sys.argv[2]))))
