"""Statistics (统计与分析): energy use, emissions and the compliance cycle, grouped and paged.

A row is one group: the distinct values of the keys asked for (year, quarter, month,
province, city, region, industry, sector, enterprise, energy type), in that order. Energy
figures come from the aggregates (`energy_yearly` when the grouping needs no month and the
time filter covers whole years, `energy_monthly` otherwise), never from the records.
Compliance figures (allowances, notices, approved applications) are per compliance year,
so they are given only for groupings without QUARTER, MONTH or ENERGY_TYPE. A group exists
when it has energy data or compliance data.

A page costs one statement, or two for groupings of many groups: a UNION ALL of the energy
part and the compliance parts, grouped by the keys (and the energy type), ordered by the
keys and cut by keyset (an opaque cursor holding the last row's keys). The caller's scope and
the filter apply to every part, on the enterprises joined there or on the part's enterprise
id, so no grouping can add up another tenant's rows.

- dimensions: what a query asks (Dimension, StatisticsFilter), validated into a Query;
- sql: the statements of a page;
- cursor: the keyset cursor;
- page: running them, `page` for GraphQL and `stream` for the export.
"""
