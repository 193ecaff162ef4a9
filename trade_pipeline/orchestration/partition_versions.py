"""One materialization per territory partition, whose data version is a hash of its content.

Dagster (1.13) gives every partition of a partition-range run the same data version: its
`MaterializeResult` carries one scalar (dagster-io/dagster#34013, #18649). Our territory assets
run a whole year of territories at once, yet a change in one département must reach only that
département, its région and France — so each partition needs a version of its own, the same
whether it ran with 115 others or alone.

So these assets are declared with `output_required=False` and report their partitions
themselves: a run of one partition returns a normal `MaterializeResult` with the partition's
version; a run of several yields one `AssetMaterialization` per partition, with its version and
its own metadata, and no range-wide result (which would record a second, different version).
The price of the second form: a downstream asset in the *same* run would be skipped, so such
runs hold one territory asset each (the orchestrator plans them so, and the mappings between
territory assets — never Dagster's default identity mapping — keep the backfill daemon from
combining them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

import dagster as dg

from trade_pipeline.orchestration.dagster_internals import materialization_version_tags
from trade_pipeline.orchestration.partitions import parse_partition_key, partition_key


def content_version(*parts: object) -> str:
    """A data version from the content it describes (stable across processes and runs)."""
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()


def partition_results(
    context: dg.AssetExecutionContext,
    versions: Mapping[tuple[int, str], str],
    metadata: Mapping[tuple[int, str], Mapping[str, object]] | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    """The materialization of each partition computed: its content version and metadata.

    `versions` maps (year, territory) to a version for the partitions computed. A requested
    partition of a year without data (not ingested: Dagster adds the next year to a backfill, the
    latest year is often not published yet) gets no materialization: it stays missing, never a
    green « Materialized » of nothing, and changes nothing downstream (no publication).
    """
    requested = {parse_partition_key(key) for key in context.partition_keys}
    computed = {key: version for key, version in versions.items() if key in requested}
    skipped = sorted({year for year, _ in requested - set(computed)})
    if skipped:
        context.log.info(f"not materialized: the partitions of {', '.join(map(str, skipped))} (no data ingested)")
    metadata = metadata or {}
    if len(requested) == 1:
        for only, version in computed.items():
            yield dg.MaterializeResult(data_version=dg.DataVersion(version),
                                       metadata={"data_version": version, **dict(metadata.get(only, {}))})
        return
    for (year, territory), version in sorted(computed.items()):
        yield dg.AssetMaterialization(
            asset_key=context.asset_key,
            partition=partition_key(year, territory),
            tags=materialization_version_tags(context, version),
            metadata={"data_version": version, **dict(metadata.get((year, territory), {}))},
        )
