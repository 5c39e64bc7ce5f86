"""Words and badge colours for statuses: one set per domain, the same on every surface.

A domain declares, in its `labels.py`, what each status of an entity is called and its
tone; templates ask `status_label("order", order.status)` and
`status_badge("order", order.status)` (Jinja globals), views and CSV exports call
`labels_for("order").label(status)`. Where an audience words a status its own way (the
buyer's 待收货 is the merchant's 已发货), the label is a dict by audience with a
`"default"`. Tones are the five of UI.md, so a colour means the same everywhere.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from markupsafe import Markup


class Tone(StrEnum):
    """UI.md: pending grey, in review blue, active or paid green, warning orange,
    rejected or cancelled red. The value is the Bootstrap colour name."""

    PENDING = "secondary"
    REVIEW = "info"
    GOOD = "success"
    WARNING = "warning"
    BAD = "danger"


_DECLARED: dict[str, StatusLabels] = {}


class StatusLabels:
    """The words and tones of one entity's statuses (`kind`, e.g. "order")."""

    def __init__(self, kind: str, labels: Mapping[str, object], tones: Mapping[str, Tone]) -> None:
        missing = set(labels) ^ set(tones)
        if missing:
            raise ValueError(f"{kind}: statuses with a label but no tone, or the other way: {sorted(missing)}")
        self.kind, self._labels, self._tones = kind, dict(labels), dict(tones)
        _DECLARED[kind] = self

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self._labels)

    def label(self, status: str | None, audience: str = "default") -> str:
        """The status in words for `audience` (the status itself when unknown, never an error)."""
        words = self._labels.get(str(status or ""))
        if isinstance(words, Mapping):
            words = words.get(audience, words.get("default"))
        return str(words) if words is not None else str(status or "")

    def tone(self, status: str | None) -> str:
        return str(self._tones.get(str(status or ""), Tone.PENDING))

    def choices(self, audience: str = "default") -> list[tuple[str, str]]:
        """(status, words) in declaration order, for filters and tabs."""
        return [(s, self.label(s, audience)) for s in self._labels]


def labels_for(kind: str) -> StatusLabels:
    try:
        return _DECLARED[kind]
    except KeyError:
        raise KeyError(f"no status labels declared for {kind!r} (import its domain's labels module)") from None


def declared() -> tuple[StatusLabels, ...]:
    return tuple(_DECLARED.values())


def status_label(kind: str, status: str | None, audience: str = "default") -> str:
    return labels_for(kind).label(status, audience)


def status_badge(kind: str, status: str | None) -> str:
    """The Bootstrap colour name of the status's tone (`text-bg-{{ status_badge(...) }}`)."""
    return labels_for(kind).tone(status)


def status_tag(kind: str, status: str | None, audience: str = "default", classes: str = "") -> Markup:
    """The status as a badge in its tone (`{{ status_tag("order", order.status, "buyer") }}`)."""
    extra = f" {classes}" if classes else ""
    return Markup('<span class="badge text-bg-{} status-badge{}">{}</span>').format(
        status_badge(kind, status), extra, status_label(kind, status, audience))
