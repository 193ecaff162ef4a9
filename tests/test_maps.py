"""The maps: every DGDDI département is drawn and large enough to see and click (Corsica whole, the
DROM in named insets, Paris and the petite couronne enlarged, Monaco a tile), every colour is the
class of the mart value it encodes, every département links to its fiche."""

import pandas as pd
import pytest

from trade_pipeline.charts import palette
from trade_pipeline.charts.maps import (
    MEASURES,
    choropleth_chart,
    class_bounds,
    class_colours,
    class_of,
    geometry,
    insets,
    locator_chart,
    shape_of,
)
from trade_pipeline.lib.territories import department_codes, territory

EXPORTS, BALANCE, UNITED_STATES = MEASURES


def values() -> pd.DataFrame:
    """One value per département, spread like real ones (a few large, many small, deficits)."""
    codes = department_codes()
    return pd.DataFrame({
        "department_code": codes,
        "exports_eur": [(index % 17 + 1) * 150_000_000 for index in range(len(codes))],
        "balance_eur": [((index % 9) - 5) * 80_000_000 for index in range(len(codes))],
        "exports_share_united_states": [((index * 7) % 23) / 100 for index in range(len(codes))],
    })


def test_every_dgddi_departement_has_a_shape():
    assert len(department_codes()) == 101
    for code in department_codes():
        rings = shape_of(code)
        assert rings and all(len(ring) >= 4 for ring in rings), code
    assert "20" in geometry()["departements"] and "2A" not in geometry()["departements"]
    assert "ANCT" in geometry()["attribution"] and "Licence Ouverte 2.0" in geometry()["attribution"]


def _bounds(rings: list) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for r in rings for p in r], [p[1] for r in rings for p in r]
    return min(xs), min(ys), max(xs), max(ys)


def test_every_departement_is_at_least_ten_pixels_on_the_index_map():
    """On the index map as drawn (its size and margins), each département, or its enlarged copy in
    the Paris inset, is at least 10 px across both ways: visible, and a target a mouse can click."""
    chart = choropleth_chart(values(), EXPORTS, 2024, synthetic=True)
    layout = chart.figure["layout"]
    x_range, y_range = layout["xaxis"]["range"], layout["yaxis"]["range"]
    pixels_per_unit = min((chart.width - layout["margin"]["l"] - layout["margin"]["r"]) / (x_range[1] - x_range[0]),
                          (chart.height - layout["margin"]["t"] - layout["margin"]["b"]) / abs(y_range[0] - y_range[1]))
    sizes = {}
    for code in department_codes():
        rings = geometry()["enlarged"].get(code) or geometry()["departements"][code]
        x0, y0, x1, y1 = _bounds(rings)
        sizes[code] = min(x1 - x0, y1 - y0) * pixels_per_unit
    assert min(sizes.values()) >= 10, sorted(sizes.items(), key=lambda item: item[1])[:5]


def test_the_drom_are_shapes_in_named_insets_and_paris_is_enlarged():
    boxes = {inset["name"]: inset for inset in insets()}
    assert list(boxes) == ["Paris et petite couronne", "Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"]
    for name, code in (("Guadeloupe", "9A"), ("Martinique", "9B"), ("Guyane", "9C"), ("La Réunion", "9D"),
                       ("Mayotte", "9E")):
        x, y, w, h = boxes[name]["box"]
        x0, y0, x1, y1 = _bounds(shape_of(code))
        assert x <= x0 and x1 <= x + w and y <= y0 and y1 <= y + h, name
        assert max(len(ring) for ring in shape_of(code)) > 20, name  # a coastline, not a tile
    x, y, w, h = boxes["Paris et petite couronne"]["box"]
    for code in ("75", "92", "93", "94"):
        x0, y0, x1, y1 = _bounds(geometry()["enlarged"][code])
        assert x <= x0 and x1 <= x + w and y <= y0 and y1 <= y + h, code
        assert shape_of(code)[-1] == geometry()["enlarged"][code][-1]  # one shape: both copies open the fiche
    chart = choropleth_chart(values(), EXPORTS, 2024, synthetic=True)
    labels = next(t for t in chart.figure["data"] if t.get("mode") == "text")["text"]
    assert {"Guadeloupe", "La Réunion", "Monaco"} <= set(labels)
    assert chart.alt.endswith("100 départements et Monaco, chacun relié à sa fiche.")  # Monaco is not one


def test_the_locator_enlarges_paris_for_ile_de_france_only():
    def has_inset(key: str) -> bool:
        chart = locator_chart(territory(key))
        paris = next(t for t in chart.figure["data"] if t.get("text") == "Paris")
        return len([x for x in paris["x"] if x is None]) >= len(shape_of("75", coarse=True, enlarged=False))

    assert has_inset("departement-75") and has_inset("region-03") and has_inset("departement-78")
    assert not has_inset("departement-34") and not has_inset("france-FR")


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.name)
def test_every_colour_is_the_class_of_the_value_it_encodes(measure):
    frame = values()
    chart = choropleth_chart(frame, measure, 2024, synthetic=True)
    bounds = class_bounds(frame[measure.column], measure.diverging)
    colours = class_colours(bounds, measure.diverging)
    assert len(set(colours)) == len(colours) == len(bounds) + 1
    shapes = {trace["customdata"][0].removesuffix(".html"): trace for trace in chart.figure["data"]
              if trace.get("fill") == "toself"}
    assert len(shapes) == 101
    for row in frame.itertuples(index=False):
        value = getattr(row, measure.column)
        trace = shapes[f"departement-{row.department_code}"]
        assert trace["fillcolor"] == colours[class_of(value, bounds)], row.department_code
        # The class really holds the value: at or above its lower bound, below its upper one.
        index = class_of(value, bounds)
        assert index == 0 or value >= bounds[index - 1]
        assert index == len(bounds) or value < bounds[index]
        assert measure.format(value) in trace["text"]
    legend = [t for t in chart.figure["data"] if t.get("showlegend")]
    assert [t["marker"]["color"] for t in legend] == colours
    assert set(chart.table.frame["classe"]) <= {t["name"] for t in legend}


def test_the_scales_keep_their_order_in_grey():
    def lightness(colour: str) -> float:
        red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    sequential = palette.sequential(5)
    assert all(lightness(a) > lightness(b) for a, b in zip(sequential, sequential[1:], strict=False))
    # Diverging: darker the further from zero, on both sides.
    assert lightness(palette.DIVERGING_NEGATIVE[0]) < lightness(palette.DIVERGING_NEGATIVE[1])
    assert lightness(palette.DIVERGING_POSITIVE[0]) > lightness(palette.DIVERGING_POSITIVE[1])


def test_the_balance_classes_split_at_zero_and_are_labelled_in_french():
    chart = choropleth_chart(values(), BALANCE, 2024, synthetic=False)
    labels = [t["name"] for t in chart.figure["data"] if t.get("showlegend")]
    assert "de −80,0\u202fM€ à 0\u202f€" in labels or any("0\u202f€" in label for label in labels)
    assert labels[0].startswith("moins de −") and labels[-1].endswith("ou plus")


def test_each_departement_links_to_its_fiche_only_when_it_exists():
    fiches = {"departement-34", "departement-9A"}
    chart = choropleth_chart(values(), EXPORTS, 2024, synthetic=True, fiches=fiches)
    links = {t["customdata"][0] for t in chart.figure["data"] if t.get("fill") == "toself"}
    assert links == {"departement-34.html", "departement-9A.html", ""}


def test_the_locator_highlights_the_territory_and_shades_its_region():
    chart = locator_chart(territory("departement-34"))
    fills = {t["text"]: t["fillcolor"] for t in chart.figure["data"] if t.get("fill") == "toself"}
    assert fills["Hérault"] == palette.LOCATOR_OWN
    assert fills["Haute-Garonne"] == palette.LOCATOR_REGION and fills["Nord"] == palette.LOCATOR_OTHER
    assert set(chart.table.frame["role"]) == {"territoire", "même région"} and len(chart.table.frame) == 13
    region = locator_chart(territory("region-24"))  # the DROM: their tiles are highlighted
    tiles = {t["text"]: t["fillcolor"] for t in region.figure["data"] if t.get("fill") == "toself"}
    assert tiles["Guadeloupe"] == tiles["Mayotte"] == palette.LOCATOR_OWN
