"""Per-partition data versions for assets that materialize a whole year of territories in one run.

Dagster gives every partition of a single-run (range) materialization the same data version.
Our territory assets need one version per territory, so that a change in one département
requests the département, its région and France — not all 116 territories. After the asset's
own result, each partition is logged again with its own `dagster/data_version` tag; the latest
event of a partition is the one the automation conditions compare (dagster_notes.md §3).
"""

from collections.abc import Iterator, Mapping

import dagster as dg

from trade_pipeline.partitions import year_territory_key

DATA_VERSION_TAG = "dagster/data_version"
CODE_VERSION_TAG = "dagster/code_version"


def partition_results(
    context: dg.AssetExecutionContext,
    versions: Mapping[tuple[int, str], str],
    metadata: Mapping[str, object] | None = None,
    partition_metadata: Mapping[tuple[int, str], Mapping[str, object]] | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    """The asset's result, then one materialization per (year, territory) with its own version."""
    yield dg.MaterializeResult(metadata=dict(metadata or {}))
    code_version = context.assets_def.code_versions_by_key.get(context.asset_key) or ""
    for (year, territory), version in sorted(versions.items()):
        yield dg.AssetMaterialization(
            asset_key=context.asset_key,
            partition=year_territory_key(year, territory),
            tags={DATA_VERSION_TAG: version, CODE_VERSION_TAG: code_version},
            metadata={"data_version": version, **dict((partition_metadata or {}).get((year, territory), {}))},
        )
