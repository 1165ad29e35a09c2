"""`python -m chistka` runs the command-line interface."""

from chistka.cli import main

main()
