"""``python -m stancekit`` runs the command line."""
from .cli import run

run()
