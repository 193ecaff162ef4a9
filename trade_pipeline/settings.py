"""One place for paths and settings.

Every setting can be overridden by an environment variable (documented in the README). Settings
are read when asked for, not at import, so a test or the CLI can change the environment first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_LISTING_URL = "https://lekiosque.finances.gouv.fr/site_fr/telechargement/telechargement_SGBD.asp"

#: First year of the CPF rév. 2.1 product nomenclature in the DGDDI files: earlier years use
#: another product coding, so the pipeline does not offer them as partitions.
FIRST_YEAR = 2015

#: Years covered by the embedded synthetic sample.
SAMPLE_YEARS = (2022, 2023, 2024)

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
    #: How often the daemon's automation sensor evaluates what changed.
    automation_interval_s: int = 30

    # -- derived paths: everything the pipeline writes lives under data_dir -------------------
    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse" / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        return self.data_dir / "published" / "trade.duckdb"

    @property
    def fiches_dir(self) -> Path:
        return self.data_dir / "fiches"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".pipeline.lock"

    @property
    def is_sample(self) -> bool:
        return self.source == SAMPLE_SOURCE

    def with_source(self, source: str | None) -> Settings:
        return self if source is None else replace(self, source=normalise_source(source))


def normalise_source(source: str) -> str:
    """Keep keywords and URLs as given; make local paths absolute so runs do not depend on cwd."""
    if source in (SAMPLE_SOURCE, DGDDI_SOURCE) or source.startswith(("http://", "https://")):
        return source
    return str(Path(source).expanduser().resolve())


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def get_settings() -> Settings:
    """Settings from the environment (`TRADE_PIPELINE_*`), with the documented defaults."""
    data_dir = Path(os.environ.get("TRADE_PIPELINE_DATA_DIR") or "data").expanduser().resolve()
    level = os.environ.get("TRADE_PIPELINE_FLOW_LINKS_LEVEL", "a129").lower()
    if level not in ("a129", "cpf4"):
        raise ValueError(f"TRADE_PIPELINE_FLOW_LINKS_LEVEL must be 'a129' or 'cpf4', not {level!r}")
    return Settings(
        data_dir=data_dir,
        source=normalise_source(os.environ.get("TRADE_PIPELINE_SOURCE") or SAMPLE_SOURCE),
        listing_url=os.environ.get("TRADE_PIPELINE_LISTING_URL") or DEFAULT_LISTING_URL,
        flow_links_product_level=level,
        http_timeout_s=_float("TRADE_PIPELINE_HTTP_TIMEOUT", 60.0),
        http_attempts=_int("TRADE_PIPELINE_HTTP_ATTEMPTS", 4),
        http_backoff_s=_float("TRADE_PIPELINE_HTTP_BACKOFF", 2.0),
        lock_timeout_s=_float("TRADE_PIPELINE_LOCK_TIMEOUT", 600.0),
        refresh_cron=os.environ.get("TRADE_PIPELINE_REFRESH_CRON") or "0 6 15 3,10 *",
        render_tabs=_int("TRADE_PIPELINE_RENDER_TABS", 2),
        automation_interval_s=_int("TRADE_PIPELINE_AUTOMATION_INTERVAL", 30),
    )
