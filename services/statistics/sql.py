"""The SQL of a statistics page.

Two shapes. A grouping with ENERGY_TYPE (one type a group), or without WIDE keys (few groups:
years, months, provinces, sectors), is one statement returning a row per group and energy
type, cut to the page's groups by DENSE_RANK. A WIDE grouping is one statement of a row per
group, each UNION part cut to the first groups after the cursor (the page's groups are among
them, and an index in key order lets a part stop early), then one statement breaking down the
energy of the page's key range by type.

Every part applies the caller's scope and the filter, on the enterprises joined there or on
the part's enterprise id, so no grouping can add up another tenant's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from models import ApplicationStatus, NoticeStatus, Role, VerificationStatus
from services.access import Actor, scope_conditions
from services.sql import Binder, SqlValue, starts_with
from services.statistics.dimensions import Dimension, GroupKey, Query, StatisticsFilter

# The figures every part of the UNION gives, in this order (0 where a part has none).
FIGURES = ("amount", "tce", "emissions", "records", "missing", "allowances", "due", "fulfilled", "overdue", "approved", "verified", "surplus", "shortfalls", "verifications", "reported", "concluded_emissions", *(f"v_{s.value.lower()}" for s in VerificationStatus))  # fmt: skip
ENERGY_PART = {
    "tce": "SUM(m.tce)",
    "emissions": "SUM(m.emissions)",
    "records": "SUM(m.records)",
    "missing": "SUM(m.missing_factors)",
}
ALLOWANCE_PART = {"allowances": "SUM(c.amount)"}
NOTICE_PART = {
    "due": "COUNT(*)",
    "fulfilled": f"SUM(CASE WHEN c.status = '{NoticeStatus.FULFILLED.value}' THEN 1 ELSE 0 END)",
    "overdue": f"SUM(CASE WHEN c.status = '{NoticeStatus.OVERDUE.value}' THEN 1 ELSE 0 END)",
}
APPROVED_PART = {
    "approved": "COUNT(*)",
    "verified": "SUM(a.verified_emissions)",
    # The balance each application stored when submitted, from compute_balance (allowance +
    # purchased + usable offsets - verified): the one rule, never a second copy of it in SQL.
    "surplus": "SUM(a.balance)",
    "shortfalls": "SUM(CASE WHEN a.balance < 0 THEN 1 ELSE 0 END)",
}
# Verifications: the enterprises' latest reported figures against the standing conclusions'
# verified figures (k: the latest conclusion of each verification, joined below), and how many
# verifications stand in each status.
VERIFICATION_PART = {
    "verifications": "COUNT(*)",
    "reported": "COALESCE(SUM(c.reported_emissions), 0)",
    "concluded_emissions": "COALESCE(SUM(k.verified_emissions), 0)",
    **{
        f"v_{s.value.lower()}": f"SUM(CASE WHEN c.status = '{s.value}' THEN 1 ELSE 0 END)"
        for s in VerificationStatus
    },
}
STANDING_CONCLUSION = (
    " LEFT JOIN verification_conclusions k ON k.verification_id = c.id AND NOT EXISTS "
    "(SELECT 1 FROM verification_conclusions k2 WHERE k2.verification_id = c.id AND k2.sequence > k.sequence)"
)
OWNER = "@owner"  # stands for the part's enterprise id column in the enterprise conditions
Part = Literal["energy", "compliance"]


def groups(query: Query, bind: Binder, after: GroupKey | None, limit: int) -> str:
    """The page's groups (and one more, to tell whether a page follows): a row per group, or
    per group and energy type when `query.by_type`. Its keys are the columns k_<key name>."""
    names, limit_mark = _names(query), bind(limit)
    enterprises = _enterprise_conditions(query, bind)
    if query.typed:  # one energy type a group, and no compliance figures
        page = f"{_energy_part(query, bind, enterprises, after)} ORDER BY {names} LIMIT {limit_mark}"
        return _labelled(query, page, "r.k_energy_type", "")
    parts = [_energy_part(query, bind, enterprises, after)]
    if query.compliance:
        parts += _compliance_parts(query, bind, enterprises, after)
    sums = ", ".join(f"SUM(u.{f}) AS {f}" for f in FIGURES)
    union = " UNION ALL ".join(parts)
    if query.by_type:
        ranked = (
            f"SELECT {names}, u.energy_type, {sums}, DENSE_RANK() OVER (ORDER BY {names}) AS page_rank "
            f"FROM ({union}) u GROUP BY {names}, u.energy_type"
        )
        return _labelled(query, ranked, "r.energy_type", f" WHERE r.page_rank <= {limit_mark}")
    if len(parts) == 1:
        page = f"{parts[0]} ORDER BY {names} LIMIT {limit_mark}"
    else:
        # The first groups of the whole are among the first groups of each part.
        cut = [f"SELECT * FROM ({p} ORDER BY {names} LIMIT {limit_mark}) p{i}" for i, p in enumerate(parts)]
        page = (
            f"SELECT {names}, {sums} FROM ({' UNION ALL '.join(cut)}) u "
            f"GROUP BY {names} ORDER BY {names} LIMIT {limit_mark}"
        )
    return _labelled(query, page, None, "")


def breakdown(query: Query, bind: Binder, after: GroupKey | None, last: GroupKey) -> str:
    """Energy per type of a WIDE page's groups only: those after `after` up to `last`."""
    columns = _columns(query, "energy")
    conditions = _energy_conditions(query, bind, _enterprise_conditions(query, bind), after)
    conditions.append(f"({columns}) <= ({', '.join(bind(v) for v in last)})")
    return (
        f"SELECT {_select_keys(query, 'energy')}, m.energy_type_id AS energy_type, "
        "t.canonical_unit AS unit, SUM(m.amount) AS amount, SUM(m.tce) AS tce, "
        f"SUM(m.emissions) AS emissions FROM {query.table} m{_join(query, 'm')} "
        f"JOIN energy_types t ON t.code = m.energy_type_id{_where(conditions)} "
        f"GROUP BY {columns}, m.energy_type_id, t.canonical_unit"
    )


def _labelled(query: Query, page: str, energy_type: str | None, where: str) -> str:
    """The page with the unit of its energy type and the name of its enterprise."""
    columns, joins = ["r.*"], []
    if energy_type is not None:
        columns.append("t.canonical_unit AS unit")
        joins.append(f"LEFT JOIN energy_types t ON t.code = {energy_type}")
    if Dimension.ENTERPRISE in query.dimensions:
        columns.append("n.name AS enterprise_name")
        joins.append("JOIN enterprises n ON n.id = r.k_enterprise_id")
    order = ", ".join(f"r.k_{k.name}" for k in query.keys)
    return f"SELECT {', '.join(columns)} FROM ({page}) r {' '.join(joins)}{where} ORDER BY {order}"


def _energy_part(query: Query, bind: Binder, enterprises: list[str], after: GroupKey | None) -> str:
    figures = dict(ENERGY_PART)
    select, group = _select_keys(query, "energy"), _columns(query, "energy")
    if query.by_type:
        figures["amount"] = "SUM(m.amount)"
        if not query.typed:
            select, group = f"{select}, m.energy_type_id AS energy_type", f"{group}, m.energy_type_id"
    conditions = _energy_conditions(query, bind, enterprises, after)
    return (
        f"SELECT {select}, {_figures(figures)} FROM {query.table} m{_join(query, 'm')}"
        f"{_where(conditions)} GROUP BY {group}"
    )


def _compliance_parts(
    query: Query, bind: Binder, enterprises: list[str], after: GroupKey | None
) -> list[str]:
    select, columns = _select_keys(query, "compliance"), _columns(query, "compliance")
    if query.by_type:
        select += ", NULL AS energy_type"
    conditions = [c.replace(OWNER, "c.enterprise_id") for c in enterprises]
    if query.where.from_ is not None:
        conditions.append(f"c.year >= {bind(query.where.from_.year)}")
    if query.where.to is not None:
        conditions.append(f"c.year <= {bind(query.where.to.year)}")
    if after is not None:
        conditions.append(f"({columns}) > ({', '.join(bind(v) for v in after)})")
    approved = [*conditions, f"a.status = '{ApplicationStatus.APPROVED.value}'"]
    join = _join(query, "c")
    return [
        f"SELECT {select}, {_figures(ALLOWANCE_PART)} FROM allowances c{join}{_where(conditions)} GROUP BY {columns}",
        f"SELECT {select}, {_figures(NOTICE_PART)} FROM notices c{join}{_where(conditions)} GROUP BY {columns}",
        f"SELECT {select}, {_figures(APPROVED_PART)} FROM applications a "
        f"JOIN notices c ON c.id = a.notice_id{join}{_where(approved)} GROUP BY {columns}",
        f"SELECT {select}, {_figures(VERIFICATION_PART)} FROM verifications c{join}{STANDING_CONCLUSION}"
        f"{_where(conditions)} GROUP BY {columns}",
    ]


def _energy_conditions(
    query: Query, bind: Binder, enterprises: list[str], after: GroupKey | None
) -> list[str]:
    conditions = [c.replace(OWNER, "m.enterprise_id") for c in enterprises]
    start, end = query.where.from_, query.where.to
    if query.table == "energy_yearly":
        if start is not None:
            conditions.append(f"m.year >= {bind(start.year)}")
        if end is not None:
            conditions.append(f"m.year <= {bind(end.year)}")
    else:
        # Plain year bounds, with a month only where the range starts or ends inside a year:
        # PostgreSQL estimates those well (a row comparison it underestimates tenfold), so it
        # scans the (year, month) index, in parallel, rather than the whole table.
        if start is not None:
            conditions.append(f"m.year >= {bind(start.year)}")
            if start.month > 1:
                conditions.append(f"(m.year, m.month) >= ({bind(start.year)}, {bind(start.month)})")
        if end is not None:
            conditions.append(f"m.year <= {bind(end.year)}")
            if end.month < 12:
                conditions.append(f"(m.year, m.month) <= ({bind(end.year)}, {bind(end.month)})")
    if query.where.energy_types is not None:
        conditions.append(in_list("m.energy_type_id", query.where.energy_types, bind))
    if after is not None:
        conditions.append(f"({_columns(query, 'energy')}) > ({', '.join(bind(v) for v in after)})")
    return conditions


def _enterprise_conditions(query: Query, bind: Binder) -> list[str]:
    return enterprise_conditions(query.actor, query.where, bind)


def enterprise_conditions(actor: Actor, where: StatisticsFilter, bind: Binder) -> list[str]:
    """The caller's scope, then the filter; OWNER stands for the part's enterprise id column,
    `e` is the enterprise where joined."""
    conditions = scope_conditions(actor, bind, OWNER, "e.region_code")
    if where.region_prefix:
        conditions.append(starts_with("e.region_code", where.region_prefix, bind))
    if where.industry_code:
        conditions.append(starts_with("e.industry_code", where.industry_code, bind))
    if where.sector is not None:
        conditions.append(f"e.sector = {bind(where.sector.value)}")
    if where.enterprise_ids is not None:
        conditions.append(in_list(OWNER, where.enterprise_ids, bind))
    return conditions


def _join(query: Query, alias: str) -> str:
    """The enterprises, joined only where a key or a condition reads them (the scope reads
    the region code of a regulator's enterprises, unless the regulator is national)."""
    where, actor = query.where, query.actor
    reads = (
        any(k.reads_enterprise for k in query.keys)
        or where.region_prefix
        or where.industry_code
        or where.sector is not None
        or (actor.role == Role.REGULATOR and actor.region_prefix)
    )
    return f" JOIN enterprises e ON e.id = {alias}.enterprise_id" if reads else ""


def _names(query: Query) -> str:
    return ", ".join(f"k_{k.name}" for k in query.keys)


def _select_keys(query: Query, part: Part) -> str:
    return ", ".join(f"{getattr(k, part)} AS k_{k.name}" for k in query.keys)


def _columns(query: Query, part: Part) -> str:
    return ", ".join(str(getattr(k, part)) for k in query.keys)


def _figures(part: dict[str, str]) -> str:
    return ", ".join(f"{part.get(figure, '0')} AS {figure}" for figure in FIGURES)


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def in_list(column: str, values: Sequence[SqlValue], bind: Binder) -> str:
    if not values:
        return "1 = 0"  # an empty list selects nothing
    return f"{column} IN ({', '.join(bind(v) for v in values)})"
