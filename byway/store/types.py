"""Column types that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: timezone-aware UTC in and out (SQLite keeps naive UTC text, PostgreSQL ``timestamptz``).
  A naive datetime is refused rather than guessed at.
- ``Money``: exact decimals with 10 places, at most 8 digits before the point. PostgreSQL stores
  ``NUMERIC(18, 10)``; SQLite, which has no exact decimal, stores the amount as an integer count of
  1e-10 units, so ``SUM`` stays exact there too. Values come back as ``Decimal`` on both.
- ``JSONDoc``: JSON (``JSONB`` on PostgreSQL); Python ``None`` is SQL NULL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PLACES = 10
MONEY_DIGITS = 18
_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)


def to_money(value: Decimal | int | str | float) -> Decimal:
    """``value`` as a Decimal rounded (half-even) to 10 places; ValueError when out of range."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        amount = amount.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise ValueError(f"not a money amount: {value!r}") from None
    if not amount.is_finite() or abs(amount) >= _LIMIT:
        raise ValueError(f"money amount out of range (|x| < {_LIMIT}): {value!r}")
    return amount


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware times (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    impl = Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | float | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        amount = to_money(value)
        return int(amount.scaleb(MONEY_PLACES)) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES)
        return value if isinstance(value, Decimal) else Decimal(str(value))


def JSONDoc() -> TypeEngine[Any]:
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)
