"""Partitions: years, and years × territories (France, the 14 DGDDI régions, the 101 départements).

Every territory-level asset shares one `year × territory` definition, so that a whole year of
every territory (and every level) is one run under `BackfillPolicy.single_run()`. The year is a
time-window dimension, which Dagster always treats as primary: a backfill of a year splits into
one run per year, never one per territory (dagster_notes.md §1, §4). Keys are built with
`MultiPartitionKey`; as strings they read `departement-34|2024`.
"""

from __future__ import annotations

import dagster as dg

from trade_pipeline.settings import FIRST_YEAR
from trade_pipeline.territories import territory_keys

YEAR = "year"
TERRITORY = "territory"

#: Yearly windows from the first CPF rév. 2.1 year; a year becomes a partition once it has
#: ended (DGDDI publishes year N in the spring of N+1), without a code change.
year_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start=str(FIRST_YEAR), fmt="%Y")

territory_partitions = dg.StaticPartitionsDefinition(territory_keys())

year_territory_partitions = dg.MultiPartitionsDefinition({YEAR: year_partitions, TERRITORY: territory_partitions})

#: Territory assets read the year-level assets of their year.
year_to_territories = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=YEAR)


def year_territory_key(year: int | str, territory: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({YEAR: str(year), TERRITORY: territory})


def keys_by_year(partition_keys: list[str]) -> dict[int, list[str]]:
    """Group `territory|year` keys of a run by year: {2024: ['departement-34', …]}."""
    grouped: dict[int, list[str]] = {}
    for key in partition_keys:
        dims = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else _split(key)
        grouped.setdefault(int(dims[YEAR]), []).append(dims[TERRITORY])
    return grouped


def _split(key: str) -> dict[str, str]:
    territory, year = key.split("|")
    return {TERRITORY: territory, YEAR: year}


def territory_ranges(territories: list[str]) -> list[tuple[str, str]]:
    """Contiguous ranges (in partition order) covering these territories: one for all of them."""
    order = {key: index for index, key in enumerate(territory_partitions.get_partition_keys())}
    positions = sorted({order[t] for t in territories})
    keys = territory_partitions.get_partition_keys()
    ranges: list[tuple[str, str]] = []
    for position in positions:
        if ranges and order[ranges[-1][1]] == position - 1:
            ranges[-1] = (ranges[-1][0], keys[position])
        else:
            ranges.append((keys[position], keys[position]))
    return ranges
