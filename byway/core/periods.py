"""Months as budgets and usage reports count them: UTC calendar months, written ``YYYY-MM``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_PERIOD = re.compile(r"(\d{4})-(\d{2})")


def period_of(at: float) -> tuple[str, float]:
    """The month the unix time ``at`` falls in, and when that month ends (unix seconds)."""
    moment = datetime.fromtimestamp(at, UTC)
    return f"{moment.year:04d}-{moment.month:02d}", _next(moment.year, moment.month).timestamp()


def current_period(now: datetime | None = None) -> str:
    """This month (or ``now``'s) as ``YYYY-MM``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m")


def month_range(period: str) -> tuple[datetime, datetime]:
    """The bounds ``[start, end)`` of ``period``; ValueError when it is not a ``YYYY-MM`` month."""
    found = _PERIOD.fullmatch(period)
    year, month = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if year < 1 or not 1 <= month <= 12:
        raise ValueError(f"not a month (YYYY-MM): {period!r}")
    return datetime(year, month, 1, tzinfo=UTC), _next(year, month)


def _next(year: int, month: int) -> datetime:
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
