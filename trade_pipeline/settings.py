"""One place for paths and settings.

Every setting can be overridden by an environment variable (documented in docs/settings.md). Settings
are read when asked for, not at import, so a test or the CLI can change the environment first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

DEFAULT_LISTING_URL = "https://lekiosque.finances.gouv.fr/site_fr/telechargement/telechargement_SGBD.asp"

#: First year of the CPF rév. 2.1 product nomenclature in the DGDDI files: earlier years use
#: another product coding, so the pipeline does not offer them as partitions.
FIRST_YEAR = 2015

#: Years covered by the embedded synthetic sample.
SAMPLE_YEARS = tuple(range(FIRST_YEAR, 2025))  # ten years, like DGDDI's CPF rév. 2.1 files
#: The folder of the latest quarters' pages, under the fiches' (links between pages use it too).
CONJONCTURE_FOLDER = "conjoncture"
#: The sample's synthetic latest publications after 2024 (ingestion/sample_model.py).
SAMPLE_LATEST_VINTAGES = ("202511", "202512")

#: The only URL form Dagster's PostgreSQL storage works with here (see _postgres_url).
PG_URL_SCHEME = "postgresql+psycopg2://"

SAMPLE_SOURCE = "sample"
DGDDI_SOURCE = "dgddi"


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads from and writes to, and how it talks to the network."""

    data_dir: Path
    source: str = SAMPLE_SOURCE
    listing_url: str = DEFAULT_LISTING_URL
    #: Product level of the Sankey links (`flow_links`): 'a129' (default) or 'cpf4'.
    flow_links_product_level: str = "a129"
    http_timeout_s: float = 60.0
    http_attempts: int = 4
    http_backoff_s: float = 2.0
    #: How long a writer waits for another pipeline process to release the warehouse.
    lock_timeout_s: float = 600.0
    #: Caps applied to every zip member before it is read (zip bombs, oversized members).
    max_member_bytes: int = 2 * 1024**3
    max_compression_ratio: float = 200.0
    #: Yearly refresh schedule (cron, Europe/Paris).
    refresh_cron: str = "0 6 15 3,10 *"
    #: Browser tabs rendering chart pictures at once.
    render_tabs: int = 2
    #: Seconds Chromium may take to start, open a tab or finish one picture or PDF.
    browser_timeout_s: float = 60.0
    #: The Chromium for pictures and PDFs (BROWSER_PATH, kaleido's convention); None: chromium on PATH.
    browser_path: str | None = None
    #: How often the daemon's automation sensor evaluates what changed.
    automation_interval_s: int = 30
    #: Accept a year whose totals differ widely from its stored vintage or the year before
    #: (`build --accept-change`, or the `settings` resource in the launchpad); never by default.
    accept_change: bool = False
    #: Dagster's instance storage: None keeps SQLite under the data directory (the quick start);
    #: a PostgreSQL URL (TRADE_PIPELINE_DAGSTER_PG_URL) is what a production deployment uses.
    dagster_pg_url: str | None = None
    #: How many publications `published/history/` keeps (the current one is never removed).
    publications_kept: int = 10
    #: The years whose charts and fiches the daemon keeps current (orchestration/refresh.py,
    #: `automated_years`): `built+latest` (default: the years with fiches, and the latest year
    #: stored), `built`, `latest`, `all`, or years (`2023,2024`). A build makes those it is asked for.
    fiche_years: str = "built+latest"

    # -- derived paths: everything the pipeline writes lives under data_dir -------------------
    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse" / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        return self.published_dir / "trade.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def fiches_dir(self) -> Path:
        return self.data_dir / "fiches"

    @property
    def conjoncture_dir(self) -> Path:
        """The latest quarters' pages (fiches/conjoncture.py), beside the years' fiches."""
        return self.fiches_dir / CONJONCTURE_FOLDER

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".pipeline.lock"

    @property
    def is_sample(self) -> bool:
        return self.source == SAMPLE_SOURCE

    def with_source(self, source: str | None, name: str = "source") -> Settings:
        return self if source is None else replace(self, source=normalise_source(source, name))


class SettingsError(ValueError):
    """A setting (environment variable, option, data directory) whose value is not allowed; the
    message names it, what it holds and what is allowed. The CLI exits with 2 on it."""


def normalise_source(source: str, name: str = "TRADE_PIPELINE_SOURCE") -> str:
    """Keep keywords and URLs as given; make local paths absolute so runs do not depend on cwd."""
    if not source.strip():
        raise SettingsError(f"{name}={source!r}: give sample, dgddi, a directory or a zip, or an http(s) URL of a zip")
    if source in (SAMPLE_SOURCE, DGDDI_SOURCE) or source.startswith(("http://", "https://")):
        return source
    return str(Path(source).expanduser().resolve())


def _number(name: str, default: float, kind: type, minimum: float, maximum: float | None = None) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    bound = "> 0" if 0 < minimum < 0.01 else f"≥ {minimum:g}"
    allowed = f"{'a whole number' if kind is int else 'a number'} {bound}" + (f" and ≤ {maximum:g}" if maximum else "")
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r}: {allowed} is expected") from None
    if number < minimum or (maximum is not None and number > maximum) or number != number:  # NaN
        raise SettingsError(f"{name}={value!r}: {allowed} is expected")
    return number


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).lower()
    if value not in allowed:
        raise SettingsError(f"{name}={value!r}: one of {', '.join(repr(a) for a in allowed)} is expected")
    return value


def _cron(name: str, default: str) -> str:
    import dagster as dg  # the schedule's own check: what it accepts, and nothing else

    value = os.environ.get(name) or default
    try:
        dg.ScheduleDefinition(name="cron_check", cron_schedule=value, job_name="cron_check")
    except dg.DagsterInvalidDefinitionError:
        raise SettingsError(f"{name}={value!r}: a cron expression (minute hour day month weekday) is expected") from None
    return value


def _url(name: str, default: str) -> str:
    value = os.environ.get(name) or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={value!r}: an http(s) URL is expected")
    return value


def _postgres_url(name: str) -> str | None:
    value = os.environ.get(name) or None
    if value is None or value.startswith(PG_URL_SCHEME):
        return value
    if value.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy 2.1 gives a bare URL to psycopg 3, whose server-side parameters break
        # Dagster's event log (NOTIFY run_events, $1): the driver must be named.
        suggestion = PG_URL_SCHEME + value.split("://", 1)[1]
        raise SettingsError(f"{name}: name the psycopg2 driver, {cut_url(suggestion)} (a bare postgresql:// URL makes "
                            "SQLAlchemy 2.1 choose psycopg 3, which Dagster's PostgreSQL storage cannot use)")
    raise SettingsError(f"{name}={cut_url(value)}: give a PostgreSQL URL, "
                        f"{PG_URL_SCHEME}user:password@host:5432/database")


def cut_url(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("://")
    userinfo, at, rest = tail.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{head}{sep}{userinfo.split(':', 1)[0]}:***@{rest}"


FICHE_YEAR_WORDS = ("built+latest", "built", "latest", "all")


def _fiche_years(name: str, default: str) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value in FICHE_YEAR_WORDS or all(part.strip().isdigit() and len(part.strip()) == 4 for part in value.split(",")):
        return value
    raise SettingsError(f"{name}={value!r}: one of {', '.join(FICHE_YEAR_WORDS)}, or years separated by commas "
                        "(2023,2024) is expected")


def last_complete_year(today: date | None = None) -> int:
    return (today or date.today()).year - 1


def check_years(years: list[int], today: date | None = None) -> list[int]:
    """The years a build may ask for: from the first CPF rév. 2.1 year to the last complete one."""
    last = last_complete_year(today)
    for year in years:
        if not FIRST_YEAR <= year <= last:
            raise SettingsError(f"--year {year}: a year from {FIRST_YEAR} (the first CPF rév. 2.1 year of the DGDDI "
                                f"files) to {last} (the last complete year) is expected")
    return years


#: What a data directory of ours may hold (older ones have no marker file yet).
DATA_DIR_MARKER = ".trade_pipeline"
_OUR_ENTRIES = {"raw", "warehouse", "published", "fiches", "dagster", ".pipeline.lock", ".pipeline.pid", DATA_DIR_MARKER}


def prepare_data_dir(path: Path) -> Path:
    """Create or accept a data directory: refuse a file, a directory that cannot be created or
    written, and a directory holding things of someone else's (never write among them)."""
    name = f"TRADE_PIPELINE_DATA_DIR={path}"
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}: is a file, not a directory; choose a directory for everything the pipeline writes")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(f"{name}: cannot be created ({error.strerror or error}); choose a directory you can "
                            "write to") from None
    entries = set(os.listdir(path))
    if DATA_DIR_MARKER not in entries and not entries <= _OUR_ENTRIES:
        listed = ", ".join(sorted(entries - _OUR_ENTRIES)[:5])
        raise SettingsError(f"{name}: is not a trade_pipeline data directory (it holds {listed}…); choose an empty "
                            "or new directory: the pipeline would write its raw/, warehouse/, published/, fiches/ and "
                            "dagster/ there")
    try:
        (path / DATA_DIR_MARKER).touch()
    except OSError as error:
        raise SettingsError(f"{name}: is not writable ({error.strerror or error})") from None
    return path


def get_settings() -> Settings:
    """Settings from the environment (`TRADE_PIPELINE_*`), with the documented defaults; a value
    that is not allowed raises SettingsError naming the variable."""
    data_dir = Path(os.environ.get("TRADE_PIPELINE_DATA_DIR") or "data").expanduser().resolve()
    return Settings(
        data_dir=data_dir,
        source=normalise_source(os.environ.get("TRADE_PIPELINE_SOURCE") or SAMPLE_SOURCE),
        listing_url=_url("TRADE_PIPELINE_LISTING_URL", DEFAULT_LISTING_URL),
        flow_links_product_level=_choice("TRADE_PIPELINE_FLOW_LINKS_LEVEL", "a129", ("a129", "cpf4")),
        http_timeout_s=_number("TRADE_PIPELINE_HTTP_TIMEOUT", 60.0, float, 0.001),
        http_attempts=int(_number("TRADE_PIPELINE_HTTP_ATTEMPTS", 4, int, 1, 100)),
        http_backoff_s=_number("TRADE_PIPELINE_HTTP_BACKOFF", 2.0, float, 0),
        lock_timeout_s=_number("TRADE_PIPELINE_LOCK_TIMEOUT", 600.0, float, 0),
        refresh_cron=_cron("TRADE_PIPELINE_REFRESH_CRON", "0 6 15 3,10 *"),
        render_tabs=int(_number("TRADE_PIPELINE_RENDER_TABS", 2, int, 1, 16)),
        browser_timeout_s=_number("TRADE_PIPELINE_BROWSER_TIMEOUT", 60.0, float, 1, 3600),
        browser_path=os.environ.get("BROWSER_PATH") or None,
        automation_interval_s=int(_number("TRADE_PIPELINE_AUTOMATION_INTERVAL", 30, int, 1)),
        dagster_pg_url=_postgres_url("TRADE_PIPELINE_DAGSTER_PG_URL"),
        publications_kept=int(_number("TRADE_PIPELINE_PUBLICATIONS_KEPT", 10, int, 1, 10_000)),
        fiche_years=_fiche_years("TRADE_PIPELINE_FICHE_YEARS", "built+latest"),
    )
