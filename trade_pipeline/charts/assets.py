"""Dagster wiring of the charts step: plotly figures, their data and pictures, per territory."""

from collections.abc import Iterator

import dagster as dg

from trade_pipeline import warehouse
from trade_pipeline.aggregation.assets import territory_marts
from trade_pipeline.aggregation.territory_view import load
from trade_pipeline.automation.conditions import EAGER_ON_DATA_CHANGE
from trade_pipeline.browser import INSTALL_HINT, chromium_path
from trade_pipeline.charts.figures import charts_for
from trade_pipeline.charts.files import territory_dir, write_charts
from trade_pipeline.charts.pictures import render_pictures
from trade_pipeline.metadata import Stopwatch
from trade_pipeline.partitions import year_territory_key, year_territory_partitions
from trade_pipeline.resources import PipelineSettings

CHARTS_CODE_VERSION = "1"


@dg.asset(
    partitions_def=year_territory_partitions,
    deps=[territory_marts],
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=EAGER_ON_DATA_CHANGE,
    group_name="charts",
    kinds={"plotly", "svg", "png"},
    code_version=CHARTS_CODE_VERSION,
    description=(
        "The charts of each territory's fiche in fiches/<year>/<level>-<code>/: partners (butterfly), "
        "activities (two treemaps), export and import flows (Sankeys; compact ones too for régions and "
        "France), each as SVG and PNG (Chromium, kaleido batch), CSV of its data and figure JSON. "
        "Charts whose content did not change are neither rewritten nor rendered again."
    ),
)
def territory_charts(context: dg.AssetExecutionContext, settings: PipelineSettings) -> Iterator:
    config = settings.get()
    timings = Stopwatch()
    with_images = chromium_path() is not None
    if not with_images:
        context.log.warning(f"no Chromium: chart pictures (SVG, PNG) skipped — {INSTALL_HINT}")
    folders = []
    with warehouse.connect(config) as connection:
        requested = warehouse.years_with_data(connection, context.partition_keys, context.log.warning)
    for year, territories in requested.items():
        with timings("read"), warehouse.connect(config) as connection:
            data = load(connection, year, territories)
        with timings("figures"):
            for key, territory_data in data.items():
                folder = territory_dir(config.fiches_dir, year, key)
                folders.append((year, write_charts(folder, key, year, charts_for(territory_data), with_images)))
    jobs = [job for _, folder in folders for job in folder.pictures]
    with timings("pictures"):
        render_pictures(jobs, tabs=config.render_tabs)
    for year, folder in folders:
        folder.commit()
        context.add_asset_metadata(
            {"folder": dg.MetadataValue.path(str(folder.folder)), "content_hash": folder.content_hash,
             "files_written": len(folder.written)},
            partition_key=year_territory_key(year, folder.key))
    written = sum(len(f.written) for _, f in folders)
    context.log.info(f"charts: {len(folders)} territories, {len(jobs)} charts rendered, {written} files written")
    yield dg.MaterializeResult(metadata={"territories": len(folders), "charts_rendered": len(jobs),
                                         "files_written": written, "pictures": with_images, **timings.metadata()})
