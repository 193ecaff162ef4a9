"""Make the package's geography from the ANCT open data (Licence Ouverte 2.0):

- `trade_pipeline/reference/map_geometry.json`: the map of the DGDDI départements (Corsica's 2A and
  2B merged into DGDDI's `20`) in Lambert-93, the five DROM as shapes in insets below it, each at
  its own scale, Paris and the petite couronne enlarged in an inset, Monaco (DGDDI `99`, too small
  to see) as a tile near Nice, the DGDDI régions' outlines, and the outlines of the Territoires
  d'industrie, simplified to what a 700-pixel map shows;
- `trade_pipeline/reference/territoires_industrie.csv`: each Territoire d'industrie and the
  départements it lies in, with the share of its area in each (slivers under 1 %, where the
  outlines of groupements and départements disagree by a few metres, are dropped and the rest
  rescaled to 1);
- `trade_pipeline/reference/territoires_industrie_groupements.csv`: the member groupements (EPCI)
  of each Territoire d'industrie, with their SIREN.

Area, not population: no open population grid by groupement ships with the ANCT files; the
method is stated wherever the shares are shown.

Inputs, unmodified, from the public repository `anct-carto/superposeur-anct` (the copies in
`../shared/data/real/anct_territoires_industrie_2024/` on the team's machines):
`data/geom/geojsonV2/ti_geom.geojson` and `data/geom/geojson/dep_geom_4326.geojson`.

    .venv/bin/python scripts/reference_geography.py path/to/anct_folder
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

from pyproj import Transformer
from shapely import Polygon, affinity, box, transform, unary_union
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "trade_pipeline" / "reference"
sys.path.insert(0, str(ROOT))

from trade_pipeline.lib.territories import territories  # noqa: E402

PHASE = "2023-2027"
SOURCE = "ANCT, dépôt anct-carto/superposeur-anct : ti_geom.geojson (2024-09-16), dep_geom_4326.geojson (2023-10-30)"
ATTRIBUTION = "Contours : ANCT, Licence Ouverte 2.0 (2024), simplifiés"
METRES_PER_UNIT = 2000.0  # the metropolitan map: 1 unit = 2 km (about 560 units wide)
TOLERANCE = 0.35  # map units: below what a 700-pixel map shows
COARSE = 1.2  # the fiches' 320-pixel locator maps
FINE = 0.12  # the Territoires d'industrie's zoomed maps
SLIVER = 0.01  # a share of a TI's area below this is a disagreement between outlines, not a part

#: INSEE → DGDDI département codes where they differ (`../shared/docs/dgddi_format.md`).
DGDDI_CODE = {"2A": "20", "2B": "20", "971": "9A", "972": "9B", "973": "9C", "974": "9D", "976": "9E"}
#: Each DROM's projection (its UTM zone, RGAF09 / RGFG95 / RGR92 / RGM04), as in its official maps.
DROM_CRS = {"9A": "EPSG:5490", "9B": "EPSG:5490", "9C": "EPSG:2972", "9D": "EPSG:2975", "9E": "EPSG:4471"}
PARIS = ("75", "92", "93", "94")
PARIS_ZOOM = 5.0
INSET_GAP, INSET_HEIGHT, LABEL_SPACE = 14.0, 84.0, 14.0


def geometries(path: Path, key: str) -> dict[str, object]:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {f["properties"][key]: shape(f["geometry"]) for f in features}


def project(geometry, crs: str):  # noqa: ANN001, ANN201
    to_metres = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return transform(geometry, to_metres.transform, interleaved=False).buffer(0)


def rings_of(geometry, minimum: float = 0.02) -> list[list[list[float]]]:  # noqa: ANN001
    """Outer rings (no holes worth drawing at this size), rounded to 0,1 unit."""
    parts = geometry.geoms if hasattr(geometry, "geoms") else [geometry]
    return [[[round(x, 1), round(y, 1)] for x, y in part.exterior.coords] for part in parts
            if not part.is_empty and part.area > minimum]


def fit(geometry, target: tuple[float, float, float, float]):  # noqa: ANN001, ANN201
    """Scale (keeping proportions) and move a y-down geometry into the box (x, y, w, h), centred."""
    x0, y0, x1, y1 = geometry.bounds
    x, y, w, h = target
    scale = min(w / (x1 - x0), h / (y1 - y0))
    moved = affinity.scale(geometry, scale, scale, origin=(x0, y0))
    return affinity.translate(moved, x + (w - (x1 - x0) * scale) / 2 - x0, y + (h - (y1 - y0) * scale) / 2 - y0), scale


def main() -> None:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("anct", type=Path, help="folder with ti_geom.geojson and dep_geom_4326.geojson")
    args = parser.parse_args()
    departements_wgs = geometries(args.anct / "dep_geom_4326.geojson", "insee_dep")
    features = json.loads((args.anct / "ti_geom.geojson").read_text(encoding="utf-8"))["features"]
    assert len(departements_wgs) == 101 and len(features) == 183, (len(departements_wgs), len(features))

    # Metropolitan départements in Lambert-93, then in map units (y down, 1 unit = 2 km).
    metro = {insee: project(g, "EPSG:2154") for insee, g in departements_wgs.items() if insee not in DGDDI_CODE
             or DGDDI_CODE[insee] == "20"}
    x_min, _, _, y_max = unary_union(list(metro.values())).bounds

    def to_map(geometry):  # noqa: ANN001, ANN202
        return affinity.affine_transform(geometry, [1 / METRES_PER_UNIT, 0, 0, -1 / METRES_PER_UNIT,
                                                    -x_min / METRES_PER_UNIT + 4, y_max / METRES_PER_UNIT + 4])

    shapes: dict[str, object] = {}
    for insee, geometry in metro.items():
        code = DGDDI_CODE.get(insee, insee)
        shapes[code] = unary_union([shapes[code], to_map(geometry)]) if code in shapes else to_map(geometry)
    width = max(g.bounds[2] for g in shapes.values()) + 4
    metro_height = max(g.bounds[3] for g in shapes.values()) + 4

    # The DROM: one inset each, below the metropolitan map, each at its own scale.
    insets, enlarged, transforms = [], {}, {}
    drom = [t for t in territories() if t.level == "departement" and t.code in DROM_CRS]
    inset_width = (width - INSET_GAP * (len(drom) - 1)) / len(drom)
    for index, t in enumerate(drom):
        target = (index * (inset_width + INSET_GAP), metro_height + INSET_GAP, inset_width, INSET_HEIGHT)
        metres = project(departements_wgs[t.insee_code], DROM_CRS[t.code])
        flipped = affinity.scale(metres, 1, -1, origin=(0, 0))
        placed, _ = fit(flipped, (target[0] + 4, target[1] + 4, target[2] - 8, target[3] - 8))
        shapes[t.code] = placed
        transforms[t.code] = (DROM_CRS[t.code], flipped.bounds, (target[0] + 4, target[1] + 4, target[2] - 8,
                                                                  target[3] - 8))
        insets.append({"name": t.name, "codes": [t.code], "box": [round(v, 1) for v in target]})
    height = metro_height + INSET_GAP + INSET_HEIGHT + LABEL_SPACE

    # Paris and the petite couronne, enlarged, over the Channel at the top left.
    paris = unary_union([shapes[c] for c in PARIS])
    x0, y0, x1, y1 = paris.bounds
    paris_box = (4.0, 4.0, (x1 - x0) * PARIS_ZOOM + 8, (y1 - y0) * PARIS_ZOOM + 8)
    for code in PARIS:
        part = affinity.scale(shapes[code], PARIS_ZOOM, PARIS_ZOOM, origin=(x0, y0))
        enlarged[code] = affinity.translate(part, paris_box[0] + 4 - x0, paris_box[1] + 4 - y0)
    assert not box(*paris_box[:2], paris_box[0] + paris_box[2], paris_box[1] + paris_box[3]).intersects(
        unary_union([g for c, g in shapes.items() if c not in DROM_CRS])), "the Paris inset covers land"
    insets.insert(0, {"name": "Paris et petite couronne", "codes": list(PARIS), "box": [round(v, 1) for v in paris_box],
                      "enlarged": True, "zoom": PARIS_ZOOM})

    # Monaco: 2 km², a tile at sea south-east of it, named, large enough to see and click.
    monaco = to_map(project(Polygon([(7.409, 43.724), (7.439, 43.724), (7.439, 43.752), (7.409, 43.752)]),
                            "EPSG:2154")).centroid
    shapes["99"] = box(monaco.x + 2, monaco.y + 3, monaco.x + 15, monaco.y + 16)

    # Régions (DGDDI): the union of their metropolitan départements.
    region_of = {t.code: t.parent_region_code for t in territories() if t.level == "departement"}
    regions: dict[str, list] = {}
    for code, geometry in shapes.items():
        if code not in DROM_CRS and code != "99":
            regions.setdefault(region_of[code], []).append(geometry.buffer(0.3))
    outlines = {code: unary_union(parts).buffer(-0.3) for code, parts in sorted(regions.items())}

    # Territoires d'industrie: outlines on the same map, and their départements' shares.
    rows, groupements, ti_outlines = [], [], {}
    insee_to_dgddi = {t.insee_code: t.code for t in territories() if t.level == "departement" and t.insee_code}
    insee_to_dgddi.update(DGDDI_CODE)
    for feature in sorted(features, key=lambda f: f["properties"]["id_territoire"]):
        props = feature["properties"]
        identifier, name = props["id_territoire"], props["lib_territoire"].strip()
        outline_wgs = shape(feature["geometry"]).buffer(0)
        areas, insee_areas = {}, {}
        for insee, geometry in departements_wgs.items():
            if not geometry.intersects(outline_wgs):
                continue
            code = insee_to_dgddi[insee]
            crs = DROM_CRS.get(code, "EPSG:2154")
            insee_areas[insee] = project(geometry.intersection(outline_wgs), crs).area
            areas[code] = areas.get(code, 0.0) + insee_areas[insee]
        total = sum(areas.values())
        kept = {code: area for code, area in areas.items() if area / total >= SLIVER}
        for code, area in sorted(kept.items(), key=lambda item: (-item[1], item[0])):
            insee = ",".join(sorted(i for i, a in insee_areas.items() if insee_to_dgddi[i] == code and a / total >= SLIVER))
            rows.append({"phase": PHASE, "id_territoire": identifier, "territoire": name, "departement": code,
                         "insee_departement": insee, "part_surface": round(area / sum(kept.values()), 4)})
        for member in re.split(r";\s*", props["liste_geo"].strip()):
            found = re.fullmatch(r"(.+?)\s*\((\d{9})\)", member.strip())
            assert found, (identifier, member)
            groupements.append({"phase": PHASE, "id_territoire": identifier, "groupement": found[1],
                                "siren": found[2]})
        main_code = max(kept, key=kept.get)
        if main_code in DROM_CRS:
            crs, bounds, target = transforms[main_code]
            flipped = affinity.scale(project(outline_wgs, crs), 1, -1, origin=(0, 0))
            x0, y0, x1, y1 = bounds
            scale = min(target[2] / (x1 - x0), target[3] / (y1 - y0))
            moved = affinity.scale(flipped, scale, scale, origin=(x0, y0))
            placed = affinity.translate(moved, target[0] + (target[2] - (x1 - x0) * scale) / 2 - x0,
                                        target[1] + (target[3] - (y1 - y0) * scale) / 2 - y0)
        else:
            placed = to_map(project(outline_wgs, "EPSG:2154"))
        ti_outlines[identifier] = rings_of(placed.simplify(FINE, preserve_topology=True), minimum=0.005)

    result = {
        "source": SOURCE, "licence": "Licence Ouverte 2.0", "attribution": ATTRIBUTION,
        "width": round(width, 1), "height": round(height, 1), "metropolitan_height": round(metro_height, 1),
        "insets": insets,
        "departements": {code: rings_of(g.simplify(TOLERANCE, preserve_topology=True)) for code, g in sorted(shapes.items())},
        "departements_coarse": {code: rings_of(g.simplify(COARSE, preserve_topology=True))
                                for code, g in sorted(shapes.items())},
        "departements_fine": {code: rings_of(g.simplify(FINE, preserve_topology=True), minimum=0.005)
                              for code, g in sorted(shapes.items())},
        "enlarged": {code: rings_of(g.simplify(TOLERANCE, preserve_topology=True)) for code, g in enlarged.items()},
        "regions": {code: rings_of(g.simplify(TOLERANCE, preserve_topology=True)) for code, g in outlines.items()},
        "regions_coarse": {code: rings_of(g.simplify(COARSE, preserve_topology=True)) for code, g in outlines.items()},
        "territoires_industrie": ti_outlines,
    }
    target = REFERENCE / "map_geometry.json"
    target.write_text(json.dumps(result, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    for name, table in (("territoires_industrie.csv", rows), ("territoires_industrie_groupements.csv", groupements)):
        with (REFERENCE / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(table[0]), delimiter=";", lineterminator="\n")
            writer.writeheader()
            writer.writerows(table)
    print(f"wrote {target.name} ({target.stat().st_size:,} bytes, {width:.0f} × {height:.0f} units), "
          f"{len({r['id_territoire'] for r in rows})} Territoires d'industrie over {len(rows)} (TI, département) rows, "
          f"{len(groupements)} groupements")


if __name__ == "__main__":
    main()
