"""The charts: deterministic figures (snapshots), French labels, top-5 colouring, readable layouts."""

import json
import random

import plotly.graph_objects as go
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from trade_pipeline.charts import palette
from trade_pipeline.charts.activities import activities_chart, grouped_products
from trade_pipeline.charts.figures import COMPARISON_CHARTS, OWN_CHARTS, charts_for
from trade_pipeline.charts.flows import flows_chart
from trade_pipeline.charts.layout import sankey_layout, squarify
from trade_pipeline.charts.partners import partners_chart
from trade_pipeline.charts.pictures import NO_LIGATURES, PictureJob, render_pictures

from .support import ROWS, territory_data

NB = "\u202f"


@pytest.fixture(scope="module")
def herault():
    return territory_data()["departement-34"]


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("name", ["partners", "activities_exports", "flows_exports", "flows_imports"])
def test_figure_json_snapshot(herault, snapshot_json, name):
    chart = {c.name: c for c in charts_for(herault)}[name]
    assert json.loads(json.dumps(chart.figure)) == snapshot_json


def test_every_chart_is_a_valid_plotly_figure():
    data = territory_data()
    for territory_data_ in data.values():
        for chart in charts_for(territory_data_):
            go.Figure(chart.figure)  # plotly's own validation raises on any invalid property


def test_same_data_in_another_order_gives_the_same_picture():
    shuffled = list(ROWS)
    random.Random(7).shuffle(shuffled)
    first = territory_data()["departement-34"]
    second = territory_data(shuffled)["departement-34"]
    for a, b in zip(charts_for(first), charts_for(second), strict=True):
        assert json.dumps(a.figure, sort_keys=True) == json.dumps(b.figure, sort_keys=True), a.name


def test_the_five_largest_flows_are_red_and_only_them():
    links = territory_data()["france-FR"].links
    exports = flows_chart(territory_data()["france-FR"], "E").figure["data"][0]["link"]
    red = palette.with_alpha(palette.TOP_FLOW, 0.78)
    colours = exports["color"]
    highlighted = sorted((v for v, c in zip(exports["value"], colours, strict=True) if c == red), reverse=True)
    listed = links[(links.flow == "E") & (links.product_code != "AUTRES") & (links.country_code != "AUTRES")]
    assert highlighted == sorted(listed.value_eur.nlargest(5).tolist(), reverse=True)
    assert len(highlighted) == 5
    assert all(c in (red, palette.with_alpha(palette.NEUTRAL_FLOW, 0.45)) for c in colours)


def test_flows_chart_nodes_are_ordered_by_value_with_others_last(herault):
    layout = sankey_layout([("A", "a", 10), ("AUTRES", "o", 50), ("B", "b", 30)],
                           [("X", "x", 60), ("Y", "y", 30)], plot_height=400, min_pad=10)
    assert [n.code for n in layout.left] == ["B", "A", "AUTRES"]
    # Stacked without overlap, inside the plot area (plotly needs 0 < y < 1).
    for column in (layout.left, layout.right):
        tops = [n.y * 400 - n.height / 2 for n in column]
        bottoms = [n.y * 400 + n.height / 2 for n in column]
        assert all(b + 10 <= t + 1e-6 for b, t in zip(bottoms, tops[1:], strict=False))
        assert tops[0] >= -1e-6 and bottoms[-1] <= 400 + 1e-6 and all(0 < n.y < 1 for n in column)


def test_sankey_labels_sit_beside_their_nodes_and_never_overlap():
    """One big node and many small ones (a small territory): each label, centred on its node,
    clears its neighbours and the plot's edges; plotly sizes the nodes as placed."""
    left = [("A", "a", 1000), ("B", "b", 5), ("C", "c", 3), ("D", "d", 2), ("E", "e", 2), ("AUTRES", "o", 1)]
    right = [("X", "x", 1000), ("Y", "y", 11), ("Z", "z", 2)]
    labels = ({code: 26.0 for code, _, _ in left}, {code: 39.0 if code == "Y" else 26.0 for code, _, _ in right})
    layout = sankey_layout(left, right, plot_height=300, min_pad=8, label_heights=labels)
    assert layout.plot_height == 300  # the labels fit: the plot keeps its height
    for column, heights in ((layout.left, labels[0]), (layout.right, labels[1])):
        centres = [n.y * layout.plot_height for n in column]
        for above, below, top, bottom in zip(column, column[1:], centres, centres[1:], strict=False):
            assert bottom - top >= (heights[above.code] + heights[below.code]) / 2 - 1e-6
        assert centres[0] - heights[column[0].code] / 2 >= -1e-6
        assert centres[-1] + heights[column[-1].code] / 2 <= layout.plot_height + 1e-6
    # plotly's own scale (d3-sankey) with the pad given equals the heights used here.
    scale = min((layout.plot_height - (len(c) - 1) * layout.pad) / sum(n.value for n in c)
                for c in (layout.left, layout.right))
    assert all(n.height == pytest.approx(n.value * scale) for n in layout.left + layout.right)
    # Too many labels for the height asked: the plot grows rather than the labels drift.
    crowded = [(f"P{i}", "p", 10) for i in range(20)]
    tall = sankey_layout(crowded, right, plot_height=300, min_pad=8,
                         label_heights=({code: 26.0 for code, _, _ in crowded}, labels[1]))
    assert tall.plot_height >= 20 * 26


def test_values_are_printed_in_french(herault):
    flows = flows_chart(herault, "E").figure
    labels = [a["text"] for a in flows["layout"]["annotations"] if "<b>" in a["text"]]
    assert any(f"200{NB}€" in text for text in labels)  # US: the fixture's values are euros
    partners = partners_chart(herault).figure
    balances = [a["text"] for a in partners["layout"]["annotations"] if a.get("yref") == "y"]
    assert f"▼ \u2212300{NB}€" in balances and f"▲ +200{NB}€" in balances
    assert partners["layout"]["separators"] == f",{NB}"


def test_partner_chart_leaves_out_non_countries(herault):
    partners = partners_chart(herault).figure["data"][0]["y"]
    assert "UE (non ventilé)" not in partners and "Pays non déterminés" not in partners
    assert "États-Unis" in partners  # short French label, not the DGDDI « Etats-Unis »


def test_treemap_tiles_that_cannot_carry_a_label_are_grouped():
    data = territory_data()["france-FR"]
    tiles = grouped_products(data, "E", area=(120, 80))
    assert tiles["product_code"].iloc[-1] == "AUTRES" and tiles["value_eur"].sum() == data.total("E")
    chart = activities_chart(data, "I")
    assert chart.figure["data"][0]["type"] == "treemap"
    assert sum(chart.figure["data"][0]["values"]) == data.total("I")


def test_the_two_treemaps_areas_are_in_proportion_to_imports_and_exports(herault):
    """As in the national fiche: the balance shows in the treemaps' sizes (Hérault here: 500 €
    exported, 460 € imported)."""
    exports, imports = activities_chart(herault, "E"), activities_chart(herault, "I")
    (ex0, ex1), (ix0, ix1) = (c.figure["data"][0]["domain"]["x"] for c in (exports, imports))
    plot_heights = [c.height - 58 - 32 for c in (exports, imports)]
    areas = [(ex1 - ex0) * plot_heights[0], (ix1 - ix0) * plot_heights[1]]
    assert areas[1] / areas[0] == pytest.approx(460 / 500, rel=0.01)
    assert "importations 460" in imports.title and "exportations 500" in imports.title


def test_a_contribution_is_rounded_once_for_the_bar_and_the_caption(herault):
    """The bar's label and the caption's figure are one string: −70,0549 pts reads « −70,1 pts »
    in both (rounded to 0,01 for the bar, then to 0,1 for its text, −70,0549 read « −70,0 »)."""
    from trade_pipeline.charts.contributions import contributions_chart

    rows = herault.contributions.copy()
    exports_de = (rows["flow"] == "E") & (rows["dimension"] == "country") & (rows["code"] == "DE")
    rows.loc[exports_de, "contribution_pct_points"] = -70.0549  # the largest fall, named in the caption
    data = type(herault)(**{**herault.__dict__, "contributions": rows})
    chart = contributions_chart(data, "E")
    bars = chart.figure["data"][0]
    label = dict(zip(bars["y"], bars["text"], strict=True))["Allemagne"]
    assert label == f"\u221270,1{NB}pts"
    assert f"Allemagne ({label})" in chart.alt


def test_squarify_tiles_the_whole_area_without_overlap():
    tiles = squarify([50.0, 30.0, 10.0, 6.0, 4.0], 300, 200)
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in tiles) == pytest.approx(300 * 200)
    for index, (ax0, ay0, ax1, ay1) in enumerate(tiles):
        for bx0, by0, bx1, by1 in tiles[index + 1:]:
            assert min(ax1, bx1) - max(ax0, bx0) <= 1e-9 or min(ay1, by1) - max(ay0, by0) <= 1e-9


def test_alt_texts_state_the_findings_in_french(herault):
    partners = partners_chart(herault)
    assert partners.alt.startswith(f"En 2024, l'Hérault exporte 500{NB}€ et importe 460{NB}€")
    assert "premier client : États-Unis (40,0" in partners.alt
    flows = flows_chart(herault, "E")
    assert "Pharmacie → États-Unis" in flows.alt
    assert [c.name for c in flows.table.columns] == ["rang", "code_produit", "produit", "code_pays", "pays", "valeur_eur", "top5"]


def test_a_territory_without_exports_still_gets_its_charts():
    rows = [(2024, 1, "I", "48", "12", "C19Z", "1920", "ES", 1000)]
    data = territory_data(rows, ["departement-48"])["departement-48"]
    charts = {chart.name: chart for chart in charts_for(data)}
    assert charts["activities_exports"].figure["data"][0]["values"] == []
    assert "exporte 0" in charts["activities_exports"].alt
    assert charts["flows_exports"].figure["data"] == []
    assert "Aucun flux d'exportations en 2024" in json.dumps(charts["flows_exports"].figure, ensure_ascii=False)


@pytest.mark.browser
def test_every_picture_of_a_territory_without_any_trade_is_rendered(tmp_path):
    """A DROM région with no row at all still gets all its pictures (an empty Sankey used to
    leave kaleido writing nothing, which failed the whole year's charts)."""
    rows = [(2024, 1, "I", "48", "12", "C19Z", "1920", "ES", 1000)]
    data = territory_data(rows, ["region-01"])["region-01"]
    jobs = [PictureJob(chart.figure, tmp_path / f"{chart.name}.svg", tmp_path / f"{chart.name}.png",
                       chart.width, chart.height) for chart in charts_for(data)]
    render_pictures(jobs)
    assert len(jobs) == len(OWN_CHARTS) + len(COMPARISON_CHARTS)
    for job in jobs:
        assert job.svg.read_bytes().startswith(b"<svg") and job.png.read_bytes().startswith(b"\x89PNG")
    assert "Aucun flux d" in (tmp_path / "flows_imports_compact.svg").read_text()


@pytest.mark.browser
def test_the_butterfly_shows_each_bars_value(tmp_path, herault):
    """On paper the axis alone cannot be read: every bar of the partners chart carries its value."""
    import re

    from trade_pipeline.lib import french

    chart = partners_chart(herault)
    job = PictureJob(chart.figure, tmp_path / "partners.svg", tmp_path / "partners.png", chart.width, chart.height)
    render_pictures([job])
    svg = job.svg.read_text(encoding="utf-8")
    drawn = [re.sub(r"<[^>]+>", "", text) for text in re.findall(r'<text class="bartext[^"]*"[^>]*>(.*?)</text>', svg)]
    frame = chart.table.frame
    expected = [french.eur(v) for column in ("importations_eur", "exportations_eur") for v in frame[column] if v]
    assert sorted(drawn) == sorted(expected) and len(drawn) >= 4


@pytest.mark.browser
def test_a_chart_chromium_cannot_draw_fails_by_name(tmp_path):
    empty_sankey = {"data": [{"type": "sankey", "node": {"label": []}, "link": {"source": [], "target": [],
                                                                               "value": []}}], "layout": {}}
    job = PictureJob(empty_sankey, tmp_path / "flows.svg", tmp_path / "flows.png", 300, 300)
    with pytest.raises(RuntimeError, match=r"could not draw the chart .*flows.svg \(RangeError: Invalid array length\)$"):
        render_pictures([job])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.browser
def test_svg_is_what_kaleido_itself_renders(tmp_path):
    """The warm tabs make kaleido's call: the same SVG but for plotly's random element ids and
    our style turning ligatures off, the text kept as text (the PNG's bytes are compared in
    test_fiches)."""
    import re

    import kaleido

    charts = {c.name: c for c in charts_for(territory_data()["departement-34"])}
    jobs = [PictureJob(c.figure, tmp_path / f"{c.name}.svg", tmp_path / f"{c.name}.png", c.width, c.height)
            for c in charts.values()]
    render_pictures(jobs)
    kaleido.write_fig_from_object_sync([{"fig": job.figure, "path": str(tmp_path / f"k-{job.svg.name}"), "opts": {
        "format": "svg", "width": job.width, "height": job.height}} for job in jobs], kopts={"mathjax": False})

    def without_ids(svg: str) -> str:
        uid = re.search(r'id="defs-([0-9a-f]+)"', svg).group(1)
        return svg.replace(uid, "UID")

    for job in jobs:
        ours, theirs = job.svg.read_text(encoding="utf-8"), (tmp_path / f"k-{job.svg.name}").read_text(encoding="utf-8")
        assert NO_LIGATURES in ours
        assert without_ids(ours.replace(NO_LIGATURES, "", 1)) == without_ids(theirs), job.svg.name
        assert "<text" in ours or job.svg.name == "locator.svg"  # the locator has no words (fiche.html.j2)


@pytest.mark.browser
def test_warm_tabs_replace_a_tab_after_its_jobs_with_a_prepared_new_one():
    """A tab is closed after `renew_every` jobs (its renderer's memory goes with it) and the
    jobs after it run on a new tab, prepared like the first."""
    from trade_pipeline.lib.browser import WarmTabs

    prepared = []

    async def prepare(tab) -> None:  # noqa: ANN001
        prepared.append(tab.target_id)

    async def work(tab, job: int) -> str:  # noqa: ANN001
        assert tab.target_id in prepared
        return tab.target_id

    with WarmTabs(1, prepare=prepare, renew_every=2) as tabs:
        futures = [tabs.submit(work, n) for n in range(5)]
    used = [future.result() for future in futures]
    assert used[0] == used[1] != used[2] == used[3] != used[4]
    assert prepared == list(dict.fromkeys(used))


@pytest.mark.browser
def test_pictures_drawn_on_renewed_tabs_are_those_of_one_tab(tmp_path, monkeypatch):
    import re

    from trade_pipeline.charts import pictures

    charts = list(charts_for(territory_data()["departement-34"]))[:5]

    def draw(folder):
        folder.mkdir()
        jobs = [PictureJob(c.figure, folder / f"{c.name}.svg", folder / f"{c.name}.png", c.width, c.height)
                for c in charts]
        render_pictures(jobs, tabs=1)
        return {job.svg.name: re.sub(r"[0-9a-f]{6}", "", job.svg.read_text()) for job in jobs}

    one_tab = draw(tmp_path / "one")
    monkeypatch.setattr(pictures, "PICTURES_PER_TAB", 2)
    assert draw(tmp_path / "renewed") == one_tab
