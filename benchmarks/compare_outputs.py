"""Compare two data directories' outputs: published store tables, figure JSON, CSVs, SVG text, PDF text."""
import json, re, sys, hashlib
from pathlib import Path
import duckdb, pypdf, struct, zlib

a, b = map(Path, sys.argv[1:3])
problems = []

def tables(path):
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
        df = con.execute(f'SELECT * FROM "{name}"').df()
        df = df.sort_values(list(df.columns)).reset_index(drop=True) if len(df) else df
        out[name] = df
    return out

ta, tb = tables(a / "published/trade.duckdb"), tables(b / "published/trade.duckdb")
if set(ta) != set(tb): problems.append(f"tables differ {set(ta) ^ set(tb)}")
for name in sorted(set(ta) & set(tb)):
    x, y = ta[name], tb[name]
    drop = [c for c in x.columns if c in ("published_at", "ingested_at", "fetched_at", "built_at")]
    try:
        if not x.drop(columns=drop, errors="ignore").equals(y.drop(columns=drop, errors="ignore")):
            problems.append(f"table {name} differs ({len(x)} vs {len(y)} rows)")
    except Exception as e:
        problems.append(f"table {name}: {e}")
print(f"{len(ta)} tables compared")

def svg_text(p):
    s = p.read_text(encoding="utf-8")
    return re.findall(r"<text[^>]*>(.*?)</text>", s, flags=re.S), len(re.findall(r"<path", s))

def png_size(p):
    d = p.read_bytes(); return struct.unpack(">II", d[16:24])

def pdf_text(p):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(p)).pages)

counts = {}
fa, fb = a / "fiches", b / "fiches"
names_a = {p.relative_to(fa) for p in fa.rglob("*") if p.is_file() and not p.name.startswith(".")}
names_b = {p.relative_to(fb) for p in fb.rglob("*") if p.is_file() and not p.name.startswith(".")}
if names_a != names_b: problems.append(f"file sets differ: {sorted(map(str, names_a ^ names_b))[:10]}")
for rel in sorted(names_a & names_b):
    x, y = fa / rel, fb / rel
    kind = rel.suffix
    counts[kind] = counts.get(kind, 0) + 1
    if kind in (".csv", ".js") or rel.name == "manifest.json":
        if x.read_bytes() != y.read_bytes(): problems.append(f"{rel} bytes differ")
    elif kind == ".svg":
        if svg_text(x) != svg_text(y): problems.append(f"{rel} svg text/paths differ")
    elif kind == ".png":
        if png_size(x) != png_size(y): problems.append(f"{rel} png size {png_size(x)} vs {png_size(y)}")
    elif kind == ".pdf":
        if pdf_text(x) != pdf_text(y): problems.append(f"{rel} pdf text differs")
    elif kind == ".html":
        norm = lambda p: re.sub(r"\?v=[0-9a-f]+", "", p.read_text(encoding="utf-8"))
        if norm(x) != norm(y): problems.append(f"{rel} html differs")
print("compared", counts)
print(len(problems), "problems"); print("\n".join(problems[:40]))
