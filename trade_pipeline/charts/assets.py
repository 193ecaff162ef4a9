"""Dagster wiring of the charts step: plotly figures, their data and pictures, per territory."""

from collections.abc import Iterator

import dagster as dg

from trade_pipeline.aggregation import reads
from trade_pipeline.aggregation.assets import territory_flows, territory_marts
from trade_pipeline.charts.figures import charts_for
from trade_pipeline.charts.files import abandoned_on_failure, territory_dir, write_charts
from trade_pipeline.charts.pictures import render_pictures
from trade_pipeline.lib.browser import BrowserFailed, Progress
from trade_pipeline.lib.territories import FRANCE_KEY, territory_keys
from trade_pipeline.orchestration.conditions import eager_on_data_of
from trade_pipeline.orchestration.metadata import Stopwatch
from trade_pipeline.orchestration.partition_versions import partition_results
from trade_pipeline.orchestration.partitions import (
    TERRITORY_DIMENSION,
    YEAR_DIMENSION,
    year_territory_partitions,
)
from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, Chromium, PipelineSettings, Warehouse

CHARTS_CODE_VERSION = "6"  # 3: evolution and contributions charts; 4: typed tables beside the charts;
# 5: print-first charts (labels beside nodes, values on bars, no ligatures), imports from the US;
# 6: locator maps from the ANCT outlines (DROM insets, Paris enlarged for Île-de-France)

#: The charts of a territory and year read its marts of that year and of every earlier year (the
#: evolution chart), and France's (its share of France): revising 2015 redraws 2016–2024 too.
YEARS_SO_FAR = 100
#: The same year and territory — spelled out, not Dagster's default identity mapping, which would
#: let the backfill daemon put the slices and the charts in one run (orchestration/partition_versions.py).
SAME_PARTITION = dg.MultiPartitionMapping({
    YEAR_DIMENSION: dg.DimensionPartitionMapping(YEAR_DIMENSION, dg.TimeWindowPartitionMapping(
        start_offset=0, end_offset=0)),
    TERRITORY_DIMENSION: dg.DimensionPartitionMapping(TERRITORY_DIMENSION, dg.IdentityPartitionMapping()),
})

SERIES_OF_TERRITORY_AND_FRANCE = dg.MultiPartitionMapping({
    YEAR_DIMENSION: dg.DimensionPartitionMapping(YEAR_DIMENSION, dg.TimeWindowPartitionMapping(
        start_offset=-YEARS_SO_FAR, end_offset=0, allow_nonexistent_upstream_partitions=True)),
    TERRITORY_DIMENSION: dg.DimensionPartitionMapping(TERRITORY_DIMENSION, dg.StaticPartitionMapping(
        {key: set(territory_keys()) if key == FRANCE_KEY else {key} for key in territory_keys()})),
})


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=year_territory_partitions,
    deps=[dg.AssetDep(territory_marts, partition_mapping=SERIES_OF_TERRITORY_AND_FRANCE),
          # Only to wait for the year's rows: the territory's slice of the year exists once they
          # are in. Not `trade_flows` itself: a new provenance of the same rows changes its
          # version, which would show every chart « Unsynced » though none changed.
          dg.AssetDep(territory_flows, partition_mapping=SAME_PARTITION)],
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,  # one materialization per partition: orchestration/partition_versions.py
    automation_condition=eager_on_data_of((territory_marts,), required=territory_flows, redo_on_new_code=True),
    group_name="charts",
    kinds={"plotly", "svg", "png"},
    code_version=CHARTS_CODE_VERSION,
    description=(
        "The charts of each territory's fiche in fiches/<year>/<level>-<code>/: evolution since the "
        "store's first year, contributions to the change (exports, imports), partners (butterfly), "
        "activities (two treemaps), export and import flows (Sankeys; compact ones too for régions and "
        "France), each as SVG and PNG (plotly.js in warm Chromium tabs), CSV of its data and figure JSON. "
        "Charts whose content did not change are neither rewritten nor rendered again. Data version = "
        "the hash of the figures, tables and alt texts."
    ),
)
def territory_charts(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse,
                     chromium: Chromium) -> Iterator:
    config = settings.get()
    timings = Stopwatch()
    chromium.warn_if_missing(context.log, "chart pictures (SVG, PNG) skipped")
    requested = warehouse.years_with_data(context.partition_keys, context.log.warning)
    progress = Progress(sum(len(t) for t in requested.values()),
                        lambda done, total: context.log.info(f"{done}/{total} territories drawn"))
    folders = []

    def pictures() -> Iterator:
        """The figures and tables of each territory, written as they are made; their pictures
        are drawn meanwhile, in warm Chromium tabs."""
        for year, territories in requested.items():
            with timings("read"), warehouse.connect() as connection:
                data = reads.load(connection, year, territories)
            for key, territory_data in data.items():
                with timings("figures"):
                    folder = territory_dir(config.fiches_dir, year, key)
                    folders.append((year, write_charts(folder, key, year, charts_for(territory_data), chromium.available)))
                yield from folders[-1][1].pictures
                progress.step()

    with timings("figures and pictures"), abandoned_on_failure(folder for _, folder in folders):
        try:
            drawn = (render_pictures(pictures(), **chromium.options) if chromium.available
                     else sum(1 for _ in pictures()))
        except BrowserFailed as failed:  # one line naming the browser, not a stack trace
            raise dg.Failure(description=str(failed)) from None
    versions, metadata = {}, {}
    for year, folder in folders:
        folder.commit()
        versions[(year, folder.key)] = folder.content_hash
        metadata[(year, folder.key)] = {"folder": dg.MetadataValue.path(str(folder.folder)),
                                        "pictures_rendered": len(folder.pictures), "files_written": len(folder.written)}
    written = sum(len(f.written) for _, f in folders)
    context.log.info(f"{len(folders)} territories, {drawn} charts drawn, {written} files written "
                     f"({', '.join(f'{stage} {seconds} s' for stage, seconds in timings.seconds.items())})")
    yield from partition_results(context, versions, metadata)
