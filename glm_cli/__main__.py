"""Run glm as ``python -m glm_cli``."""

from glm_cli.cli import main

main()
