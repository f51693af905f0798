"""Time cut into the town's days (Asia/Shanghai) inside the database, on SQLite and PostgreSQL alike: a count
grouped by `local_date(column)` costs one pass over the rows the WHERE clause picked, whatever their number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

TOWN_TIMEZONE = "Asia/Shanghai"
TOWN_ZONE = ZoneInfo(TOWN_TIMEZONE)
# Shanghai has kept UTC+8 without daylight saving since 1991: SQLite (no time zones) adds this fixed offset.
_SQLITE_OFFSET_HOURS = 8
assert TOWN_ZONE.utcoffset(datetime(2026, 1, 1)) == TOWN_ZONE.utcoffset(datetime(2026, 7, 1)) \
    == timedelta(hours=_SQLITE_OFFSET_HOURS)


class local_date(FunctionElement):  # noqa: N801  (reads like the SQL function it compiles to)
    """The town's calendar day of a UTC timestamp column, as 'YYYY-MM-DD' text."""

    type = sa.String()
    name = "local_date"
    inherit_cache = True


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    # UTCDateTime stores naive UTC text on SQLite ('2026-12-03 11:00:00.000000'); date() reads it.
    return f"date({compiler.process(element.clauses, **kw)}, '+{_SQLITE_OFFSET_HOURS} hours')"


@compiles(local_date, "postgresql")
def _local_date_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE '{TOWN_TIMEZONE}', 'YYYY-MM-DD')"


class local_month(FunctionElement):  # noqa: N801
    """The town's calendar month of a UTC timestamp column, as 'YYYY-MM' text."""

    type = sa.String()
    name = "local_month"
    inherit_cache = True


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '+{_SQLITE_OFFSET_HOURS} hours')"


@compiles(local_month, "postgresql")
def _local_month_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE '{TOWN_TIMEZONE}', 'YYYY-MM')"


def town_day(moment: datetime) -> date:
    return moment.astimezone(TOWN_ZONE).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_from_text(text: str) -> date:
    return date.fromisoformat(text)



class epoch_bucket(FunctionElement):  # noqa: N801
    """Which `seconds`-long slice of time since 1970 (UTC) a timestamp column falls in, as an integer: slices of
    5 minutes start at :00, :05, ... in every time zone with a whole-hour offset (Shanghai's is +8)."""

    type = sa.Integer()
    name = "epoch_bucket"
    inherit_cache = True

    def __init__(self, column, seconds: int):
        self.seconds = int(seconds)
        super().__init__(column)


@compiles(epoch_bucket, "sqlite")
def _epoch_bucket_sqlite(element, compiler, **kw):
    return f"(CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / {element.seconds})"


@compiles(epoch_bucket, "postgresql")
def _epoch_bucket_postgresql(element, compiler, **kw):
    return f"CAST(floor(extract(epoch FROM {compiler.process(element.clauses, **kw)}) / {element.seconds}) AS INTEGER)"


def last_months(now: datetime, count: int) -> list[str]:
    """The town's last `count` months up to this one, oldest first, as 'YYYY-MM'."""
    day = town_day(now)
    year, month = day.year, day.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def start_of_month(month: str) -> datetime:
    """'2026-12' -> the first instant of that month in the town, as UTC."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=TOWN_ZONE).astimezone(UTC)
