"""The effective value of an enterprise-month, computed independently of the service: plain
Python over the raw records, from the rule as the docs state it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

# The shipped default order (services/energy/reference/source_precedence.csv), first wins.
DEFAULT_ORDER = ("MANUAL", "IMPORT", "PLATFORM", "IOT")


def effective(records: list[dict[str, Any]], order: tuple[str, ...] = DEFAULT_ORDER) -> list[dict[str, Any]]:
    """The records that count: per enterprise, month and energy type, those of the first source in
    `order` that sent any; of that source, its monthly record (day 0) if it sent one, else its days."""
    months: dict[tuple[Any, ...], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        key = (r["enterprise_id"], r["year"], r["month"], r["energy_type_id"])
        months[key][str(r["source"])].append(r)
    counted: list[dict[str, Any]] = []
    for sources in months.values():
        chosen = sources[min(sources, key=order.index)]
        counted += [r for r in chosen if r["day"] == 0] or chosen
    return counted
