"""Historical data import: rows and CSV files, validated with line numbers, all or nothing by
default, upserted on the natural key, stored in canonical units, within the caller's scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from decimal import Decimal

import pytest

from models import AuditEvent, Enterprise, HistoricalEmission, HistoricalEnergy, HistoricalOutput
from services.access import Actor
from services.allocation import history
from services.allocation.history import HistoryImporter, ImportResult, RowError, csv_rows, import_rows
from services.errors import ErrorCode, ServiceError
from tests.conftest import World
from tests.services.cycle import fails_with

HEADER = "credit_code,year,kind,item,quantity,unit"


def row(enterprise: Enterprise, year: int = 2023, kind: str = "EMISSIONS", item: str = "", quantity: str = "1000", unit: str = "t") -> dict[str, str]:  # fmt: skip
    return {
        "credit_code": enterprise.credit_code,
        "year": str(year),
        "kind": kind,
        "item": item,
        "quantity": quantity,
        "unit": unit,
    }


async def stored() -> dict[str, list[tuple]]:
    """Every history row, by table, as plain tuples in a stable order."""
    return {
        "energy": [
            (r.enterprise_id, r.year, r.energy_type_id, r.quantity)
            for r in await HistoricalEnergy.all().order_by("enterprise_id", "year", "energy_type_id")
        ],
        "emissions": [
            (r.enterprise_id, r.year, r.verified_emissions)
            for r in await HistoricalEmission.all().order_by("enterprise_id", "year")
        ],
        "outputs": [
            (r.enterprise_id, r.year, r.product_id, r.quantity)
            for r in await HistoricalOutput.all().order_by("enterprise_id", "year", "product_id")
        ],
    }


NOTHING: dict[str, list[tuple]] = {"energy": [], "emissions": [], "outputs": []}


def codes(result: ImportResult) -> list[tuple[int, ErrorCode, str | None]]:
    return sorted((e.line, e.code, e.field) for e in result.errors)


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_csv(data: bytes, size: int = 64 * 1024) -> list[tuple[int, dict[str, str]]]:
    return [pair async for pair in csv_rows(chunks(data, size))]


async def import_csv(actor: Actor, lines: Iterable[str], *, partial: bool = False, size: int = 4096) -> ImportResult:  # fmt: skip
    data = "\n".join([HEADER, *lines]).encode() + b"\n"
    return await HistoryImporter(actor, partial=partial).run(csv_rows(chunks(data, size)))


# ---------------------------------------------------------------- rows (the GraphQL path)


async def test_a_regulator_imports_energy_emissions_and_output_in_canonical_units(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    result = await import_rows(
        regulator,
        [
            row(enterprise, kind="ENERGY", item="ELECTRICITY", quantity="1500000", unit="kWh"),
            row(enterprise, kind="energy", item="natural_gas", quantity="250000", unit="m³"),
            row(enterprise, kind="ENERGY", item="DIESEL", quantity="2500", unit="kg"),
            row(enterprise, kind="ENERGY", item="WATER", quantity="1200", unit="立方米"),
            row(enterprise, kind="EMISSIONS", quantity="98765"),
            row(enterprise, kind="OUTPUT", item="POWER_COAL_GT300", quantity="1000000", unit="MWh"),
            row(enterprise, kind="OUTPUT", item="HEAT_COAL", quantity="5000", unit="吉焦"),
        ],
    )
    assert (result.written, result.error_count, result.errors) == (7, 0, [])
    e = enterprise.id
    assert await stored() == {
        "energy": [
            (e, 2023, "DIESEL", Decimal("2.5")),
            (e, 2023, "ELECTRICITY", Decimal(1500)),
            (e, 2023, "NATURAL_GAS", Decimal(25)),
            (e, 2023, "WATER", Decimal(1200)),
        ],
        "emissions": [(e, 2023, 98765)],
        "outputs": [(e, 2023, "HEAT_COAL", Decimal(5000)), (e, 2023, "POWER_COAL_GT300", Decimal(1_000_000))],
    }
    event = await AuditEvent.get(action="history.imported")
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        regulator.user_id,
        "User",
        regulator.user_id,
    )
    assert event.data == {"written": 7, "errors": 0, "partial": False}


async def test_importing_the_same_row_again_updates_it(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await import_rows(regulator, [row(enterprise, quantity="1000"), row(enterprise, kind="ENERGY", item="DIESEL", quantity="10")])  # fmt: skip
    result = await import_rows(
        regulator,
        [row(enterprise, quantity="1200"), row(enterprise, kind="ENERGY", item="DIESEL", quantity="11000", unit="kg")],
    )  # fmt: skip
    assert result.written == 2
    assert await stored() == {
        "energy": [(enterprise.id, 2023, "DIESEL", Decimal(11))],
        "emissions": [(enterprise.id, 2023, 1200)],
        "outputs": [],
    }


async def test_an_enterprise_user_imports_its_own_history_only(world: World) -> None:
    own, other = await world.enterprise("440113"), await world.enterprise("440113")
    member = await world.member(own)
    result = await import_rows(member, [row(own, year=2022), row(other, year=2022), row(own, year=2023)])
    assert result.written == 0
    assert codes(result) == [(2, ErrorCode.NOT_FOUND, "credit_code")]
    assert await stored() == NOTHING
    result = await import_rows(member, [row(own, year=2022), row(own, year=2023)])
    assert result.written == 2
    assert [(e, y) for e, y, _ in (await stored())["emissions"]] == [(own.id, 2022), (own.id, 2023)]


async def test_a_regulator_cannot_import_for_an_enterprise_outside_its_region(world: World) -> None:
    inside, outside = await world.enterprise("440113"), await world.enterprise("110105")
    result = await import_rows(await world.regulator("44"), [row(inside), row(outside)])
    assert codes(result) == [(2, ErrorCode.NOT_FOUND, "credit_code")]
    assert "in your scope" in result.errors[0].message
    assert await stored() == NOTHING


async def test_an_admin_does_not_import_history(world: World) -> None:
    enterprise = await world.enterprise("440113")
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await import_rows(await world.admin(), [row(enterprise)])


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"credit_code": "91440000MA0000000X"}, ErrorCode.NOT_FOUND, "credit_code"),
        ({"credit_code": ""}, ErrorCode.REQUIRED, "credit_code"),
        ({"year": "twenty"}, ErrorCode.INVALID_YEAR, "year"),
        ({"year": "1989"}, ErrorCode.INVALID_YEAR, "year"),
        ({"kind": "PRICES"}, ErrorCode.INVALID_ROW, "kind"),
        ({"kind": "ENERGY", "item": "COAL_DUST", "unit": "t"}, ErrorCode.UNKNOWN_ENERGY_TYPE, "item"),
        ({"kind": "ENERGY", "item": "DIESEL", "unit": "barrel"}, ErrorCode.UNKNOWN_UNIT, "unit"),
        ({"kind": "ENERGY", "item": "DIESEL", "unit": "kWh"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"kind": "ENERGY", "item": "DIESEL", "unit": "L"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"kind": "OUTPUT", "item": "WIDGETS", "unit": "t"}, ErrorCode.UNKNOWN_PRODUCT, "item"),
        ({"kind": "OUTPUT", "item": "POWER_GAS", "unit": "kWh"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"kind": "EMISSIONS", "unit": "kg"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"quantity": "-1"}, ErrorCode.NEGATIVE_QUANTITY, "quantity"),
        ({"kind": "ENERGY", "item": "DIESEL", "quantity": "-0.5"}, ErrorCode.NEGATIVE_QUANTITY, "quantity"),
        ({"quantity": "lots"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": ""}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": "NaN"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": "Infinity"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": "1000.5"}, ErrorCode.INVALID_QUANTITY, "quantity"),  # emissions are whole tonnes
        ({"quantity": "1e19"}, ErrorCode.INVALID_QUANTITY, "quantity"),  # beyond BIGINT
        ({"kind": "ENERGY", "item": "DIESEL", "quantity": "1e15"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        # within range as given, beyond it once converted to the canonical unit (10^4 t)
        (
            {"kind": "ENERGY", "item": "DIESEL", "quantity": "1e9", "unit": "万吨"},
            ErrorCode.INVALID_QUANTITY,
            "quantity",
        ),
    ],
)
async def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(
    world: World, changes: dict[str, str], code: ErrorCode, field: str
) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    result = await import_rows(
        regulator, [row(enterprise, year=2021), {**row(enterprise, year=2022), **changes}, row(enterprise, year=2023)]
    )  # fmt: skip
    assert (result.written, result.error_count) == (0, 1)
    assert codes(result) == [(2, code, field)]
    assert await stored() == NOTHING
    assert not await AuditEvent.exclude(action__startswith="user.").exists()  # users made here are audited


async def test_with_partial_the_good_rows_are_written_and_the_bad_ones_reported(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    result = await import_rows(
        regulator,
        [
            row(enterprise, year=2021),
            row(enterprise, year=2022, quantity="-5"),
            row(enterprise, year=2023),
            row(enterprise, year=2024, kind="ENERGY", item="DIESEL", unit="kWh"),
        ],
        partial=True,
    )
    assert result.written == 2
    assert codes(result) == [
        (2, ErrorCode.NEGATIVE_QUANTITY, "quantity"),
        (4, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
    ]
    assert [y for _, y, _ in (await stored())["emissions"]] == [2021, 2023]
    assert (await AuditEvent.get(action="history.imported")).data == {
        "written": 2,
        "errors": 2,
        "partial": True,
    }


async def test_a_row_repeated_in_one_import_names_the_first_line(world: World) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [
            row(enterprise, kind="ENERGY", item="DIESEL", quantity="1"),
            row(enterprise, kind="EMISSIONS"),
            # the same key spelled differently: kind and item are case-insensitive, units converted
            row(enterprise, kind="energy", item="diesel", quantity="2000", unit="kg"),
            {**row(enterprise), "credit_code": enterprise.credit_code.lower()},
        ],
    )
    assert codes(result) == [(3, ErrorCode.DUPLICATE_ROW, None), (4, ErrorCode.DUPLICATE_ROW, None)]
    assert [e.message for e in sorted(result.errors, key=lambda e: e.line)] == [
        "repeats line 1",
        "repeats line 2",
    ]
    assert await stored() == NOTHING


async def test_the_same_item_in_other_years_or_kinds_is_not_a_duplicate(world: World) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [
            row(enterprise, year=2022),
            row(enterprise, year=2023),
            row(enterprise, year=2023, kind="ENERGY", item="DIESEL"),
            row(enterprise, year=2023, kind="ENERGY", item="GASOLINE"),
            row(enterprise, year=2023, kind="OUTPUT", item="CLINKER"),
        ],
    )
    assert (result.written, result.errors) == (5, [])


async def test_more_than_a_thousand_rows_a_call_is_refused(world: World) -> None:
    enterprise = await world.enterprise("440113")
    rows = [row(enterprise, year=2000 + i % 100) for i in range(1001)]
    with fails_with(ErrorCode.TOO_MANY_ITEMS, "rows"):
        await import_rows(await world.regulator("44"), rows)


# ---------------------------------------------------------------- CSV decoding


async def test_csv_lines_are_numbered_as_a_spreadsheet_shows_them() -> None:
    data = f"{HEADER}\nA,2023,EMISSIONS,,1,t\n\nB,2023,EMISSIONS,,2,t\n".encode()
    rows = await read_csv(data)
    assert [(line, r["credit_code"], r["quantity"]) for line, r in rows] == [(2, "A", "1"), (4, "B", "2")]


async def test_a_bom_crlf_line_ends_quoted_fields_and_a_missing_final_newline_are_read() -> None:
    text = f'{HEADER}\r\nA,2023,ENERGY,DIESEL,"1,5",t\r\nB,2023,EMISSIONS,,"7",t'
    rows = await read_csv("\ufeff".encode() + text.encode())
    assert rows == [
        (2, {"credit_code": "A", "year": "2023", "kind": "ENERGY", "item": "DIESEL", "quantity": "1,5", "unit": "t"}),
        (3, {"credit_code": "B", "year": "2023", "kind": "EMISSIONS", "item": "", "quantity": "7", "unit": "t"}),
    ]  # fmt: skip


async def test_columns_may_come_in_any_order_and_case() -> None:
    rows = await read_csv(b"Unit, Quantity ,ITEM,kind,year,credit_code\nt,5,,EMISSIONS,2023,A\n")
    assert rows == [(2, {"unit": "t", "quantity": "5", "item": "", "kind": "EMISSIONS", "year": "2023", "credit_code": "A"})]  # fmt: skip


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
async def test_a_chunk_may_end_inside_a_multibyte_character(size: int) -> None:
    # 万千瓦时 and the BOM are three bytes a character: small chunks split them at every offset.
    text = f"{HEADER}\nA,2023,ENERGY,ELECTRICITY,12,万千瓦时\nB,2024,ENERGY,NATURAL_GAS,3,万立方米\n"
    data = "\ufeff".encode() + text.encode()
    assert await read_csv(data, size) == await read_csv(data)
    assert [(line, r["unit"]) for line, r in await read_csv(data, size)] == [(2, "万千瓦时"), (3, "万立方米")]


async def test_a_file_missing_a_column_is_refused_at_line_one() -> None:
    with fails_with(ErrorCode.INVALID_ROW, "file") as info:
        await read_csv(b"credit_code,year,kind,item,quantity\nA,2023,EMISSIONS,,5\n")
    assert info.value.message == "line 1: missing columns unit"


async def test_a_header_without_a_newline_is_still_checked() -> None:
    with fails_with(ErrorCode.INVALID_ROW, "file"):
        await read_csv(b"credit_code,year,quantity")


async def test_an_empty_file_has_no_rows() -> None:
    assert await read_csv(b"") == []
    assert await read_csv(HEADER.encode()) == []


# ---------------------------------------------------------------- CSV import


async def test_a_csv_file_is_imported_with_its_line_numbers(world: World) -> None:
    enterprise = await world.enterprise("440113")
    code = enterprise.credit_code
    result = await import_csv(
        await world.regulator("44"),
        [f"{code},2022,EMISSIONS,,900,t", f"{code},2023,ENERGY,ELECTRICITY,2000,万千瓦时", f"{code},2023,EMISSIONS,,-1,t"],
        partial=True,
    )  # fmt: skip
    assert result.written == 2
    assert codes(result) == [(4, ErrorCode.NEGATIVE_QUANTITY, "quantity")]
    assert (await stored())["energy"] == [(enterprise.id, 2023, "ELECTRICITY", Decimal(20000))]


async def test_a_large_file_with_one_bad_row_at_the_end_writes_nothing(world: World) -> None:
    """Batches of a thousand rows are flushed as the file streams; the bad row rolls them all back."""
    enterprises = [await world.enterprise("440113") for _ in range(3)]
    lines = [
        f"{e.credit_code},{year},ENERGY,{energy},{year % 7 + 1},t"
        for e in enterprises
        for year in range(2000, 2100)
        for energy in ("DIESEL", "GASOLINE", "FUEL_OIL", "LPG", "RAW_COAL", "ANTHRACITE", "BITUMINOUS_COAL", "WATER")
    ]  # fmt: skip
    assert len(lines) == 2400 > 2 * history.BATCH
    regulator = await world.regulator("44")
    result = await import_csv(regulator, [*lines, f"{enterprises[0].credit_code},2023,EMISSIONS,,x,t"])
    assert (result.written, codes(result)) == (0, [(2402, ErrorCode.INVALID_QUANTITY, "quantity")])
    assert await HistoricalEnergy.all().count() == 0
    result = await import_csv(regulator, lines, size=333)
    assert (result.written, result.errors) == (2400, [])
    assert await HistoricalEnergy.all().count() == 2400


async def test_a_duplicate_far_apart_in_a_file_names_the_first_line(world: World) -> None:
    enterprises = [await world.enterprise("440113") for _ in range(12)]
    lines = [f"{e.credit_code},{year},EMISSIONS,,{year},t" for e in enterprises for year in range(2000, 2100)]
    lines.append(lines[3])  # line 5 (after the header) again, more than a batch later
    result = await import_csv(await world.regulator("44"), lines)
    assert [(e.line, e.code, e.message) for e in result.errors] == [
        (1202, ErrorCode.DUPLICATE_ROW, "repeats line 5")
    ]
    assert result.written == 0


async def test_the_error_report_is_capped_but_every_error_is_counted(world: World) -> None:
    enterprise = await world.enterprise("440113")
    lines = [
        f"{enterprise.credit_code},2023,EMISSIONS,,-{i},t" for i in range(1, history.MAX_REPORTED_ERRORS + 6)
    ]
    result = await import_csv(await world.regulator("44"), lines)
    assert result.error_count == history.MAX_REPORTED_ERRORS + 5
    assert len(result.errors) == history.MAX_REPORTED_ERRORS
    assert result.errors[0] == RowError(
        2, ErrorCode.NEGATIVE_QUANTITY, "quantity", "quantity must not be negative"
    )


async def test_a_character_cut_off_at_the_end_of_the_file_refuses_it_naming_the_encoding() -> None:
    # A replacement character would be reported as an unknown unit '�', which helps nobody.
    data = f"{HEADER}\nA,2023,ENERGY,ELECTRICITY,12,万".encode()[:-1]
    with pytest.raises(ServiceError) as refused:
        await read_csv(data, 5)
    assert refused.value.code == ErrorCode.UNDECODABLE_FILE
    assert "line 2 is not valid UTF-8" in refused.value.message
