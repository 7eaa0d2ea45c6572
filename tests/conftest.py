"""Shared fixtures: the real-data path (skip without it) and a CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stancekit.data import shared_corpus_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_file() -> Path:
    path = shared_corpus_file()
    if path is None:
        pytest.skip("../shared/corpora is not available here")
    return path


def run_cli(*args, stdin: bytes | None = None, cwd: Path | None = None, timeout: int = 300):
    """Run ``python -m stancekit ARGS`` in a fresh process; return the CompletedProcess."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "stancekit", *map(str, args)], input=stdin,
                          capture_output=True, cwd=cwd or ROOT, env=env, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
