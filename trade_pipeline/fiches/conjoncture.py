"""« Conjoncture : les derniers trimestres »: one page per territory, and their index with the map
of the change of exports over the last four quarters (docs/latest-quarters.md).

    fiches/conjoncture/index.html                   every territory, searchable, with the map
    fiches/conjoncture/<level>-<code>.html          one territory's latest quarters
    fiches/conjoncture/carte/                       the map (SVG, PNG, CSV; charts/files.py)

These pages move every month, with each latest publication; the fiches of the years stay as
they are and link here. Every provisional figure says so, with the month of its publication.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from trade_pipeline.aggregation.quarters import ACTIVITY, CHINA, EUROPEAN_UNION, PARTNER, UNITED_STATES
from trade_pipeline.aggregation.reads import QuarterlyData
from trade_pipeline.charts.files import ChartFolder, read_tables, write_charts
from trade_pipeline.charts.maps import MapMeasure, choropleth_chart, geometry
from trade_pipeline.fiches.html import PLOTLY_JS, ChartRef, css, environment, searchable
from trade_pipeline.lib import french
from trade_pipeline.lib.atomic import write_if_changed
from trade_pipeline.lib.provenance import ATTRIBUTION, SYNTHETIC_BANNER
from trade_pipeline.lib.territories import Territory, territory, territory_keys
from trade_pipeline.settings import CONJONCTURE_FOLDER

FOLDER = CONJONCTURE_FOLDER
MAP_FOLDER = "carte"
#: The map of the index: the change of exports over the last four quarters, per département.
R4Q_MAP = MapMeasure("map_r4q_exports", "exports_change_pct",
                     "Évolution des exportations sur les quatre derniers trimestres", True, "signed_pct")
MEASURE_TITLES = {"r4q": "Quatre derniers trimestres", "ytd": "Depuis le début de l'année",
                  "quarter": "Dernier trimestre"}
#: What each measure is compared with, after « avec » and after « par rapport » (contracted).
MEASURE_AGAINST = {"r4q": "les quatre trimestres précédents", "ytd": "les mêmes trimestres un an plus tôt",
                   "quarter": "le même trimestre un an plus tôt"}
MEASURE_COMPARED = {"r4q": "aux quatre trimestres précédents", "ytd": "aux mêmes trimestres un an plus tôt",
                    "quarter": "au même trimestre un an plus tôt"}
#: Activities shown per flow: the largest contributions to the change, up and down.
ACTIVITIES_SHOWN = 5


def page_path(fiches_dir: Path, key: str) -> Path:
    return fiches_dir / FOLDER / f"{key}.html"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def provisional_words(row: pd.Series, plural: bool = False) -> str | None:
    """« provisoire (publication de décembre 2025) » for a period with a provisional quarter."""
    if not row["provisional"]:
        return None
    return f"provisoire{'s' if plural else ''} (publication de {french.month(row['vintage'])})"


def _period(row: pd.Series) -> str:
    return french.quarter_span(int(row["first_year"]), int(row["first_quarter"]), int(row["last_year"]),
                               int(row["last_quarter"]))


def _change(change_pct: object, complete: bool) -> str:
    if not complete:
        return "non comparable"
    return "–" if _missing(change_pct) else french.signed_pct(float(change_pct) / 100)


def headline(t: Territory, row: pd.Series) -> str:
    """The sentence of a measure: « Sur T4 2024 – T3 2025, l'Hérault a exporté pour … »."""
    period = _period(row)
    exported = french.headline(row["exports_eur"])
    imported = french.headline(row["imports_eur"])
    balance = french.signed_headline(row["balance_eur"])
    sentence = (f"Sur {period}, {t.the} {t.verb('a', 'ont')} exporté pour {exported} et importé pour {imported} "
                f"(solde {balance})")
    if row["previous_complete"] and not _missing(row["exports_change_pct"]):
        sentence += (f" : {french.signed_pct(row['exports_change_pct'] / 100)} pour les exportations et "
                     f"{_change(row['imports_change_pct'], True)} pour les importations, par rapport "
                     f"{MEASURE_COMPARED[row['measure']]}")
    elif not row["previous_complete"]:
        lacking = int(row["previous_quarters_missing"])
        sentence += (f" ; la comparaison avec {MEASURE_AGAINST[row['measure']]} n'est pas possible : "
                     f"{lacking} trimestre{'s' if lacking > 1 else ''} de cette période "
                     f"{'manquent' if lacking > 1 else 'manque'} dans les données")
    return sentence + "."


def _members(changes: pd.DataFrame) -> dict[tuple[str, str, str], list[dict]]:
    """A territory's changes by (measure, flow, dimension), as rows in their order."""
    members: dict[tuple[str, str, str], list[dict]] = {}
    for row in changes.to_dict("records"):
        members.setdefault((row["measure"], row["flow"], row["dimension"]), []).append(row)
    return members


def _row_of(member: dict) -> dict:
    return {"name": member["short"], "code": member["member"], "current": french.headline(member["current_eur"]),
            "previous": "–" if _missing(member["previous_eur"]) else french.headline(member["previous_eur"]),
            "change": "–" if _missing(member["change_pct"]) else french.signed_pct(member["change_pct"] / 100),
            "contribution": "–" if _missing(member["contribution_points"])
            else french.points(member["contribution_points"])}


def partner_rows(members: list[dict]) -> list[dict]:
    """The United States, the EU27, China, then the territory's first countries (by value), of
    the partners' changes of one measure and flow."""
    focus = [UNITED_STATES, EUROPEAN_UNION, CHINA]
    ordered = ([m for code in focus for m in members if m["member"] == code]
               + sorted((m for m in members if m["member"] not in focus), key=lambda m: m["rank"]))
    return [_row_of(member) for member in ordered]


def activity_rows(members: list[dict]) -> dict[str, list[dict]]:
    """The activities that pulled the change up and down most (by contribution), of the
    activities' changes of one measure and flow."""
    scored = [m for m in members if not _missing(m["contribution_points"])]
    up = sorted((m for m in scored if m["contribution_points"] > 0), key=lambda m: -m["contribution_points"])
    down = sorted((m for m in scored if m["contribution_points"] < 0), key=lambda m: m["contribution_points"])
    return {"up": [_row_of(m) for m in up[:ACTIVITIES_SHOWN]], "down": [_row_of(m) for m in down[:ACTIVITIES_SHOWN]]}


def series_rows(series: pd.DataFrame) -> list[dict]:
    """Exports to the United States, every quarter, the provisional ones marked, with the same
    quarter a year earlier beside them."""
    by_quarter = {(int(r.year), int(r.quarter)): r for r in series.itertuples(index=False)}
    rows = []
    for (year, number), r in sorted(by_quarter.items()):
        before = by_quarter.get((year - 1, number))
        change = (french.signed_pct(r.exports_eur / before.exports_eur - 1)
                  if before is not None and before.exports_eur else "–")
        rows.append({"quarter": french.quarter(year, number), "exports": french.headline(r.exports_eur),
                     "imports": french.headline(r.imports_eur), "change": change,
                     "status": f"provisoire ({french.month(r.vintage)})" if r.status == "provisional" else "définitif",
                     "provisional": r.status == "provisional", "value": int(r.exports_eur)})
    return rows


def page_context(key: str, data: QuarterlyData, quarters_note: list[dict]) -> dict:
    """What a territory's page shows, from its rows (`QuarterlyData.by_territory`); the note of
    where each quarter comes from is the same for every territory."""
    t = territory(key)
    summary = {row["measure"]: row for _, row in data.summary.iterrows()}
    measures = []
    for measure in ("ytd", "r4q", "quarter"):
        if measure not in summary:
            continue
        row = summary[measure]
        measures.append({
            "title": MEASURE_TITLES[measure], "period": _period(row), "sentence": headline(t, row),
            "provisional": provisional_words(row), "provisional_figures": provisional_words(row, plural=True),
            "exports": french.headline(row["exports_eur"]), "imports": french.headline(row["imports_eur"]),
            "balance": french.signed_headline(row["balance_eur"]),
            "exports_change": _change(row["exports_change_pct"], row["previous_complete"]),
            "imports_change": _change(row["imports_change_pct"], row["previous_complete"]),
            "against": MEASURE_AGAINST[measure]})
    detail = "r4q" if "r4q" in summary else None
    members = _members(data.changes)
    rows = series_rows(data.series)
    peak = max((r["value"] for r in rows), default=0) or 1
    for r in rows:
        r["width"] = round(100 * r["value"] / peak, 1)
    return {
        "title": f"Conjoncture : les derniers trimestres — {t.name}", "name": t.name, "key": key,
        "subject": t.subject, "of": t.of, "css": css(), "synthetic": data.synthetic,
        "synthetic_banner": SYNTHETIC_BANNER, "attribution": ATTRIBUTION, "measures": measures,
        "detail_period": _period(summary[detail]) if detail else None,
        "partners": {flow: partner_rows(members.get((detail, flow, PARTNER), [])) for flow in "EI"}
        if detail else {},
        "activities": {flow: activity_rows(members.get((detail, flow, ACTIVITY), [])) for flow in "EI"}
        if detail else {},
        "comparable": bool(summary[detail]["previous_complete"]) if detail else False,
        "series": rows, "quarters": quarters_note,
    }


def _quarters_note(quarters: pd.DataFrame) -> list[dict]:
    """Where each quarter shown comes from: « T3 2025 : provisoire, publication de décembre 2025 (révisée) »."""
    used = quarters[quarters["in_use"]]
    notes = []
    for row in used.itertuples(index=False):
        others = quarters[(quarters["year"] == row.year) & (quarters["quarter"] == row.quarter) & ~quarters["in_use"]]
        if row.status == "provisional":
            text = f"provisoire, publication de {french.month(row.vintage)}"
            if (others["origin"] == "latest").any():
                text += " (révise " + ", ".join(f"celle de {french.month(v)}" for v in others["vintage"]) + ")"
        else:
            text = "définitif, fichier annuel" + (" (remplace les chiffres provisoires)" if len(others) else "")
        notes.append({"quarter": french.quarter(row.year, row.quarter), "text": text})
    return notes[-8:]


#: What a fiche's « Conjoncture » box shows of each measure (fiche.html.j2 fills it on screen).
BOX_FIELDS = ("title", "period", "provisional", "exports", "exports_change", "imports", "imports_change", "balance")


def write_pages(fiches_dir: Path, data: QuarterlyData) -> list[Path]:
    """Every territory's page, and the script its fiches' box reads; returns the pages whose
    content changed."""
    written = []
    template = environment().get_template("conjoncture.html.j2")
    note = _quarters_note(data.quarters)
    for key, mine in data.by_territory(territory_keys()).items():
        path = page_path(fiches_dir, key)
        context = page_context(key, mine, note)
        content = template.render(plotly_src=f"../assets/{PLOTLY_JS}", **context)
        if write_if_changed(path, content.encode("utf-8")):
            written.append(path)
        box = {"page": path.name, "measures": [{field: m[field] for field in BOX_FIELDS} for m in context["measures"]]}
        script = json.dumps(box, ensure_ascii=False).replace("</", "<\\/")
        write_if_changed(path.with_suffix(".js"), f"window.TRADE_CONJONCTURE = {script};\n".encode())
    return written


def write_map(fiches_dir: Path, data: QuarterlyData, with_images: bool) -> ChartFolder:
    """The map of the R4Q change of exports per département (call `commit` once drawn)."""
    r4q = data.summary[(data.summary["measure"] == "r4q") & (data.summary["level"] == "departement")]
    values = pd.DataFrame({"department_code": r4q["territory_code"],
                           R4Q_MAP.column: (r4q["exports_change_pct"].astype("Float64") / 100).astype(float)})
    period = _period(r4q.iloc[0]) if len(r4q) else ""
    pages = {path.stem for path in (fiches_dir / FOLDER).glob("[!.]*.html") if path.stem != "index"}
    # No map of changes that cannot be computed (the four quarters before are not in the store).
    charts = ([choropleth_chart(values, R4Q_MAP, period, data.synthetic, pages)]
              if values[R4Q_MAP.column].notna().any() else [])
    return write_charts(fiches_dir / FOLDER / MAP_FOLDER, MAP_FOLDER, period, charts, with_images)


def write_index(fiches_dir: Path, data: QuarterlyData, folder: ChartFolder) -> Path:
    """`fiches/conjoncture/index.html`: every territory's latest quarters, searchable, with the map."""
    rows = []
    for key, part in data.by_territory(territory_keys()).items():
        t = territory(key)
        mine = part.summary
        r4q = mine[mine["measure"] == "r4q"]
        if r4q.empty:
            continue
        row = r4q.iloc[0]
        rows.append({"name": t.name, "code": t.code, "level": t.kind_label, "html": f"{key}.html",
                     "exports": french.headline(row["exports_eur"]),
                     "change": _change(row["exports_change_pct"], row["previous_complete"]),
                     "value": None if _missing(row["exports_change_pct"]) else float(row["exports_change_pct"]),
                     "search": searchable(" | ".join([t.name, *t.other_names, t.region_name or "", t.code]))})
    first = data.summary[data.summary["measure"] == "r4q"]
    manifest = folder.manifest
    tables = read_tables(fiches_dir / FOLDER / MAP_FOLDER)
    context = {"rows": rows, "css": css(), "synthetic": data.synthetic, "synthetic_banner": SYNTHETIC_BANNER,
               "attribution": ATTRIBUTION, "period": _period(first.iloc[0]) if len(first) else "",
               "provisional": provisional_words(first.iloc[0]) if len(first) else None,
               "maps": [ChartRef(MAP_FOLDER, name, manifest, tables[name]).as_dict() for name in manifest["charts"]],
               "plotly_src": f"../assets/{PLOTLY_JS}", "maps_script": f"{MAP_FOLDER}/charts.js",
               "map_attribution": geometry()["attribution"]}
    path = fiches_dir / FOLDER / "index.html"
    write_if_changed(path, environment().get_template("conjoncture_index.html.j2").render(**context).encode("utf-8"))
    return path
