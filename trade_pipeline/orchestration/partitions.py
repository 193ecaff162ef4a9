"""Partitions: years, and years × territories (France, the 14 DGDDI régions, the 101 départements).

Every territory-level asset shares one `year × territory` definition, so that a whole year of
every territory (and every level) is one run under `BackfillPolicy.single_run()`. The year is a
time-window dimension, which Dagster always treats as primary: a backfill of a year splits into
one run per year, never one per territory (docs/architecture.md, « Partitions »). Keys are built with
`MultiPartitionKey`; as strings they read `departement-34|2024`.
"""

from __future__ import annotations

import dagster as dg

from trade_pipeline.lib.territories import territory_keys
from trade_pipeline.settings import FIRST_YEAR

YEAR_DIMENSION = "year"
TERRITORY_DIMENSION = "territory"

#: Yearly windows from the first CPF rév. 2.1 year; a year becomes a partition once it has
#: ended (DGDDI publishes year N in the spring of N+1), without a code change.
year_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start=str(FIRST_YEAR), fmt="%Y")

territory_partitions = dg.StaticPartitionsDefinition(territory_keys())

year_territory_partitions = dg.MultiPartitionsDefinition({YEAR_DIMENSION: year_partitions,
                                                          TERRITORY_DIMENSION: territory_partitions})

#: Territory assets read the year-level assets of their year.
year_to_territories = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=YEAR_DIMENSION)


def partition_key(year: int | str, territory: str) -> dg.MultiPartitionKey:
    """The partition of a territory and year (as a string: `departement-34|2024`)."""
    return dg.MultiPartitionKey({YEAR_DIMENSION: str(year), TERRITORY_DIMENSION: territory})


def parse_partition_key(key: str | dg.MultiPartitionKey) -> tuple[int, str]:
    """`departement-34|2024` (or its MultiPartitionKey) → (2024, 'departement-34')."""
    if not isinstance(key, dg.MultiPartitionKey):
        key = year_territory_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return int(dims[YEAR_DIMENSION]), dims[TERRITORY_DIMENSION]


def years_of(partition_keys: list[str]) -> dict[int, list[str]]:
    """Group the territory partitions of a run by year: {2024: ['departement-34', …]}."""
    grouped: dict[int, list[str]] = {}
    for key in partition_keys:
        year, territory = parse_partition_key(key)
        grouped.setdefault(year, []).append(territory)
    return grouped
