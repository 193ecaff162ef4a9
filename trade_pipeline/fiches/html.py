"""What every page of the fiches shares: the Jinja environment and stylesheet, plotly.js shipped
beside the pages, the text the pages' search boxes compare, and a chart as a page refers to it."""

from __future__ import annotations

import hashlib
import shutil
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2
import plotly

from trade_pipeline.charts.table import ChartTable

PLOTLY_JS = f"plotly-{plotly.__version__}.min.js"


def searchable(text: str) -> str:
    """Text as the search boxes compare it: without accents, in lower case (their script does the same)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("trade_pipeline.fiches", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.globals["zip"] = zip
    return environment


#: The templates of the latest quarters' pages (fiches/conjoncture.py): their own asset's code.
CONJONCTURE_TEMPLATES = "conjoncture"


@lru_cache(maxsize=2)
def templates_digest(conjoncture: bool = False) -> str:
    """A hash of the pages' templates and stylesheet: part of the fiches' code version (or, with
    `conjoncture`, of the latest quarters' pages), so that a changed template rewrites them without
    anyone remembering to bump a number — and only them."""
    digest = hashlib.sha256()
    for path in sorted(resources.files("trade_pipeline.fiches").joinpath("templates").iterdir(), key=str):
        if path.name.startswith(CONJONCTURE_TEMPLATES) == conjoncture or path.name.endswith(".css"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


@lru_cache(maxsize=1)
def css() -> str:
    return (resources.files("trade_pipeline.fiches") / "templates" / "fiche.css").read_text(encoding="utf-8")


def ensure_assets(fiches_dir: Path) -> Path:
    """Ship plotly.js once next to the fiches (no CDN: the pages work offline)."""
    target = fiches_dir / "assets" / PLOTLY_JS
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        temporary = target.with_suffix(".tmp")
        shutil.copyfile(source, temporary)
        temporary.replace(target)
    return target


@dataclass(frozen=True)
class ChartRef:
    """A chart of some territory's folder, as a page refers to it (paths relative to the page),
    with its typed table shown under it."""

    key: str
    name: str
    manifest: dict
    table: ChartTable

    @property
    def entry(self) -> dict:
        return self.manifest["charts"][self.name]

    def as_dict(self) -> dict:
        return {"territory": self.key, "name": self.name, "alt": self.entry["alt"], "title": self.entry["title"],
                "svg": f"{self.key}/{self.name}.svg", "png": f"{self.key}/{self.name}.png",
                "csv": f"{self.key}/{self.name}.csv", "width": self.entry["width"], "height": self.entry["height"],
                "table": self.table.page()}
