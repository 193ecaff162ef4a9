"""The territories as their users name them: the 183 Territoires d'industrie and their
départements, INSEE codes beside DGDDI's in the index's search, Monaco never ranked nor counted
among the départements, the DROM named for their own région."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from trade_pipeline.aggregation.mart_sql import EXPOSURE_COMPARISON
from trade_pipeline.aggregation.marts import MART_QUERIES, MartSettings, refresh
from trade_pipeline.aggregation.reads import departement_key_figures
from trade_pipeline.fiches import territoires_industrie as pages
from trade_pipeline.fiches.html import searchable
from trade_pipeline.fiches.index import write_index
from trade_pipeline.fiches.prose import exposure_items, exposure_notes
from trade_pipeline.lib.territoires_industrie import (
    groupements_frame,
    of_departement,
    shares_frame,
    territoires_industrie,
)
from trade_pipeline.lib.territories import (
    among_words,
    insee_codes_frame,
    ranked_count,
    territories,
    territories_frame,
    territory,
)

from .support import ROWS, territory_data, warehouse_with

YEAR = 2024


def test_183_territoires_each_with_departements_whose_shares_sum_to_one():
    shares = shares_frame()
    assert shares["id_territoire"].nunique() == 183 == len(territoires_industrie())
    sums = shares.groupby(["phase", "id_territoire"])["part_surface"].sum()
    assert ((sums - 1).abs() <= 0.01).all(), sums[(sums - 1).abs() > 0.01]
    departements = {t.code for t in territories() if t.level == "departement"}
    assert set(shares["departement"]) <= departements
    assert (shares["part_surface"] >= 0.01).all()  # slivers of outline mismatch are not parts
    assert not shares.duplicated(["phase", "id_territoire", "departement"]).any()
    # Every territory has members, each with a 9-digit SIREN.
    members = groupements_frame()
    assert set(members["id_territoire"]) == set(shares["id_territoire"])
    assert members["siren"].str.fullmatch(r"\d{9}").all()


def test_the_territoire_of_sete_lists_herault_and_the_departement_lists_it():
    sete = next(ti for ti in territoires_industrie()
                if any(name == "CA Sète Agglopôle Méditerranée" for name, _ in ti.groupements))
    assert sete.name == "Béziers – Sète" and [d.departement.code for d in sete.departements] == ["34"]
    assert sete in of_departement("34")
    # Interdepartmental ones are listed in each of their départements, largest share first.
    belfort = next(ti for ti in territoires_industrie() if ti.name == "Nord Franche-Comté")
    assert {d.departement.code for d in belfort.departements} == {"25", "70", "90"}
    assert [d.share for d in belfort.departements] == sorted((d.share for d in belfort.departements), reverse=True)
    assert all(belfort in of_departement(code) for code in ("25", "70", "90"))
    # Corsica: DGDDI's 20, INSEE 2A or 2B as the case may be; the DROM under 9A–9E.
    corsica = shares_frame()[shares_frame()["departement"] == "20"]
    assert set(corsica["insee_departement"]) == {"2A", "2B"}
    assert set(shares_frame()[shares_frame()["departement"] == "9D"]["insee_departement"]) == {"974"}


def test_insee_codes_beside_dgddi_codes():
    frame = territories_frame().set_index(["level", "code"])
    assert frame.loc[("region", "12"), "insee_code"] == "76"
    assert frame.loc[("departement", "9A"), "region_name"] == "Guadeloupe"
    assert frame.loc[("departement", "99"), "ranked"] == False  # noqa: E712
    long = insee_codes_frame()
    assert sorted(long[(long["level"] == "departement") & (long["code"] == "20")]["insee_code"]) == ["2A", "2B"]
    assert long[(long["level"] == "departement") & (long["code"] == "9E")]["insee_code"].tolist() == ["976"]
    # One row per INSEE département: 96 metropolitan + 5 DROM, each once.
    departements = long[long["level"] == "departement"]["insee_code"]
    assert len(departements) == departements.nunique() == 101


def test_monaco_is_never_ranked_nor_counted_among_the_departements():
    assert ranked_count("departement") == 100 and among_words("departement") == "parmi les 100 départements"
    assert territory("departement-99").kind_label == "Principauté" and "État étranger" in territory(
        "departement-99").description
    rows = ROWS + [(2024, 1, "E", "99", "21", "C21Z", "2120", "US", 9000)]  # Monaco exports most, all to the US
    connection = warehouse_with(rows)
    keys = ["france-FR", "departement-34", "departement-31", "departement-75", "departement-99"]
    for mart in MART_QUERIES.values():
        refresh(connection, mart, YEAR, keys, MartSettings())
    compared = connection.execute(f"SELECT * FROM ({EXPOSURE_COMPARISON}) WHERE year = {YEAR} "
                                  "AND indicator = 'exports_share_united_states'").df().set_index("territory_code")
    assert pd.isna(compared.loc["99", "rank"]) and pd.isna(compared.loc["99", "ranked_among"])
    assert compared.loc["99", "value"] == 1.0  # present in the store, with its values
    assert compared.loc["31", "ranked_among"] == 3 and sorted(compared.loc[["31", "34", "75"], "rank"]) == [1, 2, 3]
    figures = departement_key_figures(connection, YEAR).set_index("departement")
    monaco = territory_data(rows, keys)["departement-99"]  # its fiche: values, no rank, no « rangs non calculés »
    assert {item["rank"] for item in exposure_items(monaco)} == {"–"}
    assert not any(note.startswith("Rangs") for note in exposure_notes(monaco))
    assert pd.isna(figures.loc["99", "exports_rank"]) and figures.loc["31", "exports_rank"] == 1
    assert (figures["ranked_among"] == 3).all()


def test_a_drom_names_its_own_region_and_the_dom_aggregate_is_named_for_what_it_is():
    guadeloupe, dom = territory("departement-9A"), territory("region-24")
    assert guadeloupe.region_name == "Guadeloupe" and guadeloupe.kind_label == "Département et région d'outre-mer"
    assert guadeloupe.codes_line == "code DGDDI 9A (INSEE 971)"
    assert dom.name == "Ensemble des départements d'outre-mer" and dom.kind_label == "Ensemble de départements (DGDDI)"
    assert "pas une région administrative" in dom.description
    assert territory("region-12").codes_line == "code INSEE 76 (DGDDI 12)"
    assert territory("departement-20").codes_line == "code DGDDI 20 (INSEE 2A et 2B)"
    assert territory("departement-34").codes_line == "code 34"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.rows: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "tr" and "data-search" in attributes:
            self.rows.append(attributes)


def _parsed(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def year_with_some_fiches(tmp_path_factory) -> Path:
    """A year's folder with the fiches of France, Occitanie, Hérault and Corsica only, its index
    and the pages of the Territoires d'industrie (no pictures: no browser needed)."""
    fiches_dir = tmp_path_factory.mktemp("fiches")
    year_dir = fiches_dir / str(YEAR)
    year_dir.mkdir()
    keys = ["france-FR", "region-12", "departement-34", "departement-20"]
    for key in keys:
        (year_dir / f"{key}.html").write_text("<!DOCTYPE html><title>fiche</title>", encoding="utf-8")
    connection = warehouse_with(ROWS)
    for mart in MART_QUERIES.values():
        refresh(connection, mart, YEAR, ["france-FR", "region-12", "departement-34", "departement-31"], MartSettings())
    figures = departement_key_figures(connection, YEAR)
    pages.write_maps(fiches_dir, with_images=False)
    pages.write_pages(fiches_dir, YEAR, figures, synthetic=True, with_pdf=False)
    everyone = pd.DataFrame([(t.level, t.code, 1_000_000, 2_000_000) for t in territories()],
                            columns=["level", "territory_code", "exports_eur", "imports_eur"])
    write_index(fiches_dir, YEAR, everyone, synthetic=True, years=[YEAR])
    return year_dir


def test_every_page_of_a_territoire_links_only_to_what_exists(year_with_some_fiches):
    folder = year_with_some_fiches / "territoires-industrie"
    listed = sorted(folder.glob("ti-*.html"))
    assert len(listed) == 183
    for page in [folder / "index.html", *listed]:
        for href in _parsed(page).links:
            assert (page.parent / href.split("#")[0]).resolve().exists(), (page.name, href)
    beziers = (folder / "ti-7604.html").read_text(encoding="utf-8")
    assert 'href="../departement-34.html"' in beziers and "Béziers – Sète" in beziers
    assert "pas ceux du territoire lui-même" in beziers and "CA Sète Agglopôle Méditerranée" in beziers
    assert "Licence Ouverte 2.0" in beziers and "16 septembre 2024" in beziers  # source, date, licence
    assert "Données fictives" in beziers or "données fictives" in beziers
    # A département without a fiche this year is named, not linked.
    lyon = next(ti for ti in territoires_industrie() if any(d.departement.code == "69" for d in ti.departements))
    assert "departement-69.html" not in (folder / lyon.page).read_text(encoding="utf-8")


def _search(rows: list[dict[str, str]], query: str) -> list[str]:
    """The index's search, as its script does it: a name in part, a code whole."""
    query = searchable(query.strip())
    return [row["data-search"].split(" | ")[0] for row in rows
            if query in row["data-search"] or query in row["data-codes"].split(" ")]


def test_the_index_finds_a_territory_by_the_names_and_codes_its_users_know(year_with_some_fiches):
    rows = _parsed(year_with_some_fiches / "index.html").rows
    assert _search(rows, "Béziers") == ["herault"]  # a Territoire d'industrie
    assert _search(rows, "Sète Agglopôle") == ["herault"]  # a member groupement
    assert _search(rows, "76") == ["occitanie"]  # INSEE région code
    assert _search(rows, "12") == ["occitanie"]  # DGDDI région code, whole: not « 121 »
    assert _search(rows, "2A") == _search(rows, "Corse-du-Sud") == ["corse"]
    index = (year_with_some_fiches / "index.html").read_text(encoding="utf-8")
    assert "4 fiches : la France, 1 région et 2 départements (codes DGDDI" in index  # what it counts, agreed


def test_the_index_search_data_of_the_drom_and_monaco(tmp_path):
    year_dir = tmp_path / str(YEAR)
    year_dir.mkdir()
    for t in territories():
        (year_dir / f"{t.key}.html").write_text("fiche", encoding="utf-8")
    everyone = pd.DataFrame([(t.level, t.code, 1_000_000, 2_000_000) for t in territories()],
                            columns=["level", "territory_code", "exports_eur", "imports_eur"])
    write_index(tmp_path, YEAR, everyone, synthetic=True, years=[YEAR])
    index = (year_dir / "index.html").read_text(encoding="utf-8")
    rows = _parsed(year_dir / "index.html").rows
    assert _search(rows, "971") == _search(rows, "Guadeloupe") == ["guadeloupe"]
    assert "la France, 14 régions et 100 départements, et Monaco" in index
    assert "sur 101" not in index and "101 départements" not in index
    with duckdb.connect() as connection:  # the counts as a consumer reads them from the published tables
        connection.register("territories", territories_frame())
        assert connection.execute("SELECT count(*) FROM territories WHERE level = 'departement' AND ranked").fetchone() \
            == (100,)
