"""``python -m brainbench`` runs the command-line interface."""

from brainbench.cli.main import main

main()
