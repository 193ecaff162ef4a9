"""The indexes: `fiches/<year>/index.html` (every fiche of the year, searchable by name and code,
sortable, with the year's maps and data files) and `fiches/index.html` (every year)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trade_pipeline.charts.files import read_tables
from trade_pipeline.charts.maps import geometry
from trade_pipeline.fiches.conjoncture import FOLDER as CONJONCTURE
from trade_pipeline.fiches.html import PLOTLY_JS, ChartRef, css, environment, searchable
from trade_pipeline.fiches.maps import MAPS_FOLDER
from trade_pipeline.fiches.page import fiche_paths
from trade_pipeline.lib import french
from trade_pipeline.lib.atomic import write_if_changed
from trade_pipeline.lib.provenance import ATTRIBUTION, SYNTHETIC_BANNER
from trade_pipeline.lib.territoires_industrie import FOLDER, of_departement, territoires_industrie
from trade_pipeline.lib.territories import territory, territory_key, territory_keys


def write_index(fiches_dir: Path, year: int, totals: pd.DataFrame, synthetic: bool, years: list[int],
                maps: dict | None = None) -> Path:
    """`fiches/<year>/index.html`: every fiche of the year, searchable by name or code, and its maps."""
    rows = []
    year_dir = fiches_dir / str(year)
    order = {key: position for position, key in enumerate(territory_keys())}
    totals = totals.assign(key=[territory_key(level, code) for level, code in zip(totals["level"],
                                                                                   totals["territory_code"], strict=True)])
    for row in totals.sort_values("key", key=lambda keys: keys.map(order)).itertuples(index=False):
        key = row.key
        html, pdf = fiche_paths(fiches_dir, year, key)
        if not html.exists():
            continue
        t = territory(key)
        region = t.region_name or ""
        within = of_departement(t.code) if t.level == "departement" else []
        names = [t.name, *t.other_names, region, t.kind_label,
                 *(ti.name for ti in within), *(name for ti in within for name, _ in ti.groupements)]
        insee = ", ".join(t.insee_codes)
        rows.append({"name": t.name, "code": t.code, "level": t.kind_label, "region": region,
                     "code_shown": f"{t.code} · INSEE {insee}" if insee and insee != t.code else t.code,
                     "counted": t.level if t.ranked else "",
                     "exports": french.headline(row.exports_eur), "imports": french.headline(row.imports_eur),
                     "balance": french.signed_eur(row.exports_eur - row.imports_eur),
                     "values": {"exports": int(row.exports_eur), "imports": int(row.imports_eur),
                                "balance": int(row.exports_eur - row.imports_eur)},
                     "html": html.name, "pdf": pdf.name if pdf.exists() else None,
                     # Names match in part (« herault », « beziers »), codes whole (« 12 » is not « 121 »).
                     "search": searchable(" | ".join(names)),
                     "codes": " ".join(dict.fromkeys(searchable(code) for code in (t.code, *t.insee_codes))),
                     "territoires_industrie": ", ".join(ti.name for ti in within)})
    map_tables = read_tables(year_dir / MAPS_FOLDER) if maps else {}
    context = {"year": year, "rows": rows, "count": len(rows), "css": css(), "synthetic": synthetic,
               "synthetic_banner": SYNTHETIC_BANNER, "attribution": ATTRIBUTION,
               "regions": sum(r["counted"] == "region" for r in rows),
               "departements": sum(r["counted"] == "departement" for r in rows),
               "others": [r["name"] for r in rows if r["counted"] == "" and r["level"] != "France entière"],
               "territoires_industrie": f"{FOLDER}/index.html" if (year_dir / FOLDER / "index.html").exists() else None,
               "territoires_count": len(territoires_industrie()),
               "other_years": [y for y in years if y != year],
               "maps": [ChartRef(MAPS_FOLDER, name, maps, map_tables[name]).as_dict() for name in maps["charts"]]
               if maps else [], "plotly_src": f"../assets/{PLOTLY_JS}", "maps_script": f"{MAPS_FOLDER}/charts.js",
               "map_attribution": geometry()["attribution"],
               "downloads": [path.name for path in (year_dir / f"donnees-{year}.csv", year_dir / f"donnees-{year}.xlsx")
                             if path.exists()],
               "conjoncture": f"../{CONJONCTURE}/index.html" if (fiches_dir / CONJONCTURE / "index.html").exists()
               else None}
    path = fiches_dir / str(year) / "index.html"
    write_if_changed(path, environment().get_template("index.html.j2").render(**context).encode("utf-8"))
    return path


def write_years_index(fiches_dir: Path, years: dict[int, bool]) -> Path:
    """`fiches/index.html`: every year with fiches (newest first), each with its data files.
    `years` maps a year to whether its data are synthetic."""
    rows = []
    for year in sorted(years, reverse=True):
        year_dir = fiches_dir / str(year)
        rows.append({"year": year, "count": sum(1 for p in year_dir.glob("[!.]*.html") if p.stem != "index"),
                     "downloads": [n for n in (f"donnees-{year}.csv", f"donnees-{year}.xlsx") if (year_dir / n).exists()]})
    context = {"years": rows, "css": css(), "synthetic": any(years.values()), "synthetic_banner": SYNTHETIC_BANNER,
               "attribution": ATTRIBUTION,
               "conjoncture": f"{CONJONCTURE}/index.html" if (fiches_dir / CONJONCTURE / "index.html").exists() else None}
    path = fiches_dir / "index.html"
    write_if_changed(path, environment().get_template("years.html.j2").render(**context).encode("utf-8"))
    return path

