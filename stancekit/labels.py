"""The three stance labels and the result objects every backend returns."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

CONFIRM, DENY, HEDGE = "confirm", "deny", "hedge"
#: Label order used for every score vector, probability matrix and confusion matrix.
LABELS: tuple = (CONFIRM, DENY, HEDGE)


@dataclass(frozen=True)
class Evidence:
    """A cue phrase that drove a verdict; ``start``/``end`` index the caller's text."""

    start: int
    end: int
    text: str
    label: str
    cue: str
    negated: bool = False


@dataclass
class Stance:
    """One classified statement.

    ``label`` and ``scores`` are ``None`` only when ``error`` says why the
    statement could not be classified.
    """

    label: Optional[str]
    scores: Optional[Dict[str, float]]
    evidence: List[Evidence] = field(default_factory=list)
    error: Optional[str] = None
    lang: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return asdict(self)


def check_label(value: object) -> str:
    """Return ``value`` if it is one of :data:`LABELS`, else raise ``ValueError``."""
    if value not in LABELS:
        raise ValueError(f"label {value!r} is not one of {', '.join(LABELS)}")
    return value  # type: ignore[return-value]
