"""Dagster wiring of the fiches step: one HTML page and PDF per territory, the year indexes, and the
latest quarters' pages (« Conjoncture »)."""

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from trade_pipeline.aggregation import reads
from trade_pipeline.aggregation.assets import quarterly_indicators, territory_marts
from trade_pipeline.charts.assets import territory_charts
from trade_pipeline.charts.files import ChartFolder, abandoned_on_failure
from trade_pipeline.charts.pictures import render_pictures
from trade_pipeline.fiches import conjoncture as conjoncture_pages
from trade_pipeline.fiches import territoires_industrie as territoires
from trade_pipeline.fiches.html import ensure_assets, templates_digest
from trade_pipeline.fiches.index import write_index, write_years_index
from trade_pipeline.fiches.maps import write_maps
from trade_pipeline.fiches.page import comparison_keys, fiche_paths, read_manifests, write_fiche
from trade_pipeline.fiches.pdf import PdfJob, print_pdfs
from trade_pipeline.fiches.year_data import write_year_data
from trade_pipeline.lib.browser import BrowserFailed, Progress
from trade_pipeline.lib.territories import territories
from trade_pipeline.orchestration.conditions import after_any_data_change, eager_on_data_of
from trade_pipeline.orchestration.metadata import Stopwatch
from trade_pipeline.orchestration.partition_versions import content_version, partition_results
from trade_pipeline.orchestration.partitions import TERRITORY_DIMENSION, YEAR_DIMENSION, year_territory_partitions
from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, Chromium, PipelineSettings, Warehouse
from trade_pipeline.publication.assets import published_store
from trade_pipeline.publication.history import current_publication

#: The fiches' code: its number (3: evolution, contributions, comparison and ranks, United States;
#: 4: twelve printed pages, French that agrees, definitions, phones; 5: Territoires d'industrie,
#: INSEE codes, Monaco and the DROM named for what they are) and the templates' hash.
FICHES_CODE_VERSION = f"5+{templates_digest()}"


def _shown_in() -> dict[str, set[str]]:
    """For each territory, the fiches that show its charts: its own, and for a région its
    départements', for France every fiche (the comparison charts)."""
    shown = {t.key: {t.key} for t in territories()}
    for t in territories():
        for other in t.comparison_keys:
            shown[other].add(t.key)
    return shown


#: A fiche shows its own charts and its région's and France's.
SHOWN_IN_FICHES = dg.MultiPartitionMapping({
    YEAR_DIMENSION: dg.DimensionPartitionMapping(YEAR_DIMENSION, dg.IdentityPartitionMapping()),
    TERRITORY_DIMENSION: dg.DimensionPartitionMapping(TERRITORY_DIMENSION, dg.StaticPartitionMapping(_shown_in())),
})
#: … and ranks its territory among all the others of the year (the exposure comparison).
EVERY_TERRITORY_OF_THE_YEAR = dg.MultiPartitionMapping({
    YEAR_DIMENSION: dg.DimensionPartitionMapping(YEAR_DIMENSION, dg.IdentityPartitionMapping()),
    TERRITORY_DIMENSION: dg.DimensionPartitionMapping(TERRITORY_DIMENSION, dg.AllPartitionMapping()),
})


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=year_territory_partitions,
    deps=[dg.AssetDep(territory_charts, partition_mapping=SHOWN_IN_FICHES),
          dg.AssetDep(territory_marts, partition_mapping=EVERY_TERRITORY_OF_THE_YEAR),
          # Not a trigger (a new publication changes no figure): the fiche names the publication
          # its figures come from, so it is made after it.
          published_store],
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,  # one materialization per partition: orchestration/partition_versions.py
    automation_condition=eager_on_data_of((territory_charts, territory_marts), required=territory_charts,
                                          redo_on_new_code=True),
    group_name="fiches",
    kinds={"html", "pdf"},
    code_version=FICHES_CODE_VERSION,
    description=(
        "The fiche of each territory: fiches/<year>/<level>-<code>.html (works offline: plotly.js is "
        "shipped in fiches/assets) and .pdf (A4, vector charts, printed by Chromium). A fiche is "
        "rewritten only when something it shows changed — its charts, its région's or France's, the "
        "ranks among the other territories — or its template (the code version holds the templates' hash). "
        "Data version = a hash of the page (and whether its PDF exists)."
    ),
)
def fiches(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse,
           chromium: Chromium) -> Iterator:
    config = settings.get()
    timings = Stopwatch()
    chromium.warn_if_missing(context.log, "PDF fiches skipped, HTML only")
    ensure_assets(config.fiches_dir)
    written: dict[tuple[int, str], bool] = {}
    printing: list[PdfJob] = []
    publication = current_publication(config.published_dir)
    requested = warehouse.years_with_data(context.partition_keys, context.log.warning)
    progress = Progress(sum(len(keys) for keys in requested.values()),
                        lambda done, total: context.log.info(f"{done}/{total} fiches written and printed"))

    def pdf_jobs() -> Iterator[PdfJob]:
        """Each fiche's page, written as it is made; its PDF printed meanwhile, in warm tabs."""
        for year, keys in requested.items():
            with timings("read"), warehouse.connect() as connection:
                data = reads.load(connection, year, keys)
            shown = sorted({k for key in keys for k in [key, *comparison_keys(data[key])]})
            manifests = read_manifests(config.fiches_dir, year, shown)
            for key in keys:
                with timings("html"):
                    page, changed = write_fiche(data[key], manifests, config.fiches_dir, chromium.available,
                                                publication)
                html, pdf = fiche_paths(config.fiches_dir, year, key)
                written[(year, key)] = changed
                if chromium.available and (changed or not pdf.exists()):
                    printing.append(PdfJob(page, pdf, replaces=html if page != html else None))
                    yield printing[-1]
                else:
                    progress.step()

    with timings("html and pdf"):
        try:
            previews = print_pdfs(pdf_jobs(), on_printed=progress.step, **chromium.options)
        except BaseException as failure:
            for job in printing:  # pages whose PDF was not printed: the old page and PDF stay, a pair
                if job.replaces is not None:
                    job.html.unlink(missing_ok=True)
            if isinstance(failure, BrowserFailed):  # one line naming the browser, not a stack trace
                raise dg.Failure(description=str(failure)) from None
            raise
    versions, metadata = {}, {}
    for (year, key), changed in written.items():
        html, pdf = fiche_paths(config.fiches_dir, year, key)
        versions[(year, key)] = content_version(_digest(html), pdf.exists())
        entry = {"fiche": dg.MetadataValue.path(str(html)), "html_written": changed,
                 "pdf": dg.MetadataValue.path(str(pdf)) if pdf.exists() else "skipped (no Chromium)"}
        if pdf in previews:
            image = base64.b64encode(previews[pdf]).decode()
            entry["preview"] = dg.MetadataValue.md(f"![Aperçu de la fiche](data:image/jpeg;base64,{image})")
        metadata[(year, key)] = entry
    context.log.info(f"{sum(written.values())} of {len(written)} pages written, {len(printing)} PDFs printed "
                     f"({', '.join(f'{stage} {seconds} s' for stage, seconds in timings.seconds.items())})")
    yield from partition_results(context, versions, metadata)


def _draw_and_commit(folders: list[ChartFolder], chromium: Chromium) -> None:
    """Draw the pictures of these chart folders in one browser (when there is one), then commit them."""
    if chromium.available:
        with abandoned_on_failure(folders):
            try:
                render_pictures([job for folder in folders for job in folder.pictures], **chromium.options)
            except BrowserFailed as failed:
                raise dg.Failure(description=str(failed)) from None
    for folder in folders:
        folder.commit()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dg.asset(
    pool=WAREHOUSE_POOL,
    deps=[fiches],
    automation_condition=after_any_data_change(fiches, redo_on_new_code=True),
    group_name="fiches",
    kinds={"html"},
    code_version=FICHES_CODE_VERSION,
    description="fiches/<year>/index.html: every fiche of a year, searchable by name, DGDDI or INSEE code, "
                "Territoire d'industrie or groupement, with the map of the départements (exports, balance, share "
                "of exports to the United States; each links to its fiche) in fiches/<year>/carte/ (SVG, PNG, "
                "CSV); and the page (HTML, PDF) of each of the 183 Territoires d'industrie with its départements' "
                "key figures, in fiches/<year>/territoires-industrie/.",
)
def fiche_index(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse,
                chromium: Chromium) -> dg.MaterializeResult:
    config = settings.get()
    with warehouse.connect() as connection:
        # The years with fiches.
        years = [year for year in reads.years_with_marts(connection) if (config.fiches_dir / str(year)).exists()]
        totals, synthetic_years, maps, key_figures = {}, {}, {}, {}
        for year in years:
            totals[year] = reads.year_totals(connection, year)
            synthetic_years[year] = reads.is_synthetic(connection, year)
            key_figures[year] = reads.departement_key_figures(connection, year)
            write_year_data(config.fiches_dir, year)
            maps[year] = write_maps(config.fiches_dir, year, reads.department_values(connection, year),
                                    synthetic_years[year], chromium.available)
    folders = [*maps.values(), *(territoires.write_maps(config.fiches_dir, chromium.available) if years else [])]
    _draw_and_commit(folders, chromium)  # the maps that changed, every year's in one browser
    pages, territory_pages = {}, []
    for year in years:
        territory_pages += territoires.write_pages(config.fiches_dir, year, key_figures[year], synthetic_years[year],
                                                   chromium.available)
        pages[year] = write_index(config.fiches_dir, year, totals[year], synthetic_years[year], years,
                                  maps[year].manifest)
    if chromium.available and territory_pages:  # the Territoires d'industrie's pages that changed, printed
        try:
            print_pdfs((PdfJob(page, page.with_suffix(".pdf")) for page in territory_pages), **chromium.options)
        except BrowserFailed as failed:
            raise dg.Failure(description=str(failed)) from None
        context.log.info(f"{len(territory_pages)} pages of Territoires d'industrie printed")
    labelled = {str(year): page for year, page in sorted(pages.items())}
    if pages:  # the page of every year, linking to each year's index and data files
        labelled["every year"] = write_years_index(config.fiches_dir, synthetic_years)
    for label, page in labelled.items():
        context.log.info(f"index {label}: {page}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(content_version(*(f"{label}:{_digest(page)}" for label, page in labelled.items()),
                                                    *(territoires.pages_digest(config.fiches_dir, year) for year in years))),
        metadata={label: dg.MetadataValue.path(str(page)) for label, page in labelled.items()})


@dg.asset(
    pool=WAREHOUSE_POOL,
    deps=[quarterly_indicators],
    # Every new latest publication: these pages move month to month, the years' fiches do not.
    automation_condition=after_any_data_change(quarterly_indicators, redo_on_new_code=True),
    group_name="fiches",
    kinds={"html"},
    code_version=f"1+{templates_digest(conjoncture=True)}",
    description="fiches/conjoncture/: « Conjoncture : les derniers trimestres », one page per territory (year to "
                "date, last four quarters and last quarter against a year earlier; partners and activities with "
                "their contributions; exports to the United States quarter by quarter; every provisional figure "
                "marked with the month of its publication) and their index with the map of the change of exports "
                "over the last four quarters (docs/latest-quarters.md). The years' fiches link to them.",
)
def conjoncture(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse,
                chromium: Chromium) -> dg.MaterializeResult:
    config = settings.get()
    with warehouse.connect() as connection:
        data = reads.quarterly_data(connection)
    if data.summary.empty:
        context.log.warning("no quarter in the store yet: no « Conjoncture » page")
        return dg.MaterializeResult(data_version=dg.DataVersion("empty"))
    ensure_assets(config.fiches_dir)
    written = conjoncture_pages.write_pages(config.fiches_dir, data)
    folder = conjoncture_pages.write_map(config.fiches_dir, data, chromium.available)
    _draw_and_commit([folder], chromium)
    index = conjoncture_pages.write_index(config.fiches_dir, data, folder)
    pages = sorted((config.fiches_dir / conjoncture_pages.FOLDER).glob("[!.]*.html"))
    context.log.info(f"{len(written)} of {len(pages) - 1} pages written (new or changed figures): {index}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(content_version(*(f"{page.name}:{_digest(page)}" for page in pages))),
        metadata={"index": dg.MetadataValue.path(str(index)), "pages_written": len(written)})
