"""`python -m ascertain.cli`: the `ascertain` command."""

from ascertain.cli import app

app()
