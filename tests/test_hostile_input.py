"""Hostile labels and codes: parsed exactly, shown as text (never markup), never spliced into SQL."""

from __future__ import annotations

import hashlib
from xml.etree import ElementTree

import duckdb
import pandas as pd
import pytest

from trade_pipeline import cli
from trade_pipeline.nomenclature import parse_label_file

from .support import packaged_label, year_zip

#: What a compromised or careless label file could hold: markup, quotes, `;` inside a field, `&`.
HOSTILE = '<script>x</script>; "DE" & Cie'
HOSTILE_LINE = b'DE;"<script>x</script>; ""DE"" & Cie";190001;999912'
#: A label that a spreadsheet would run as a formula (OWASP « CSV injection »).
FORMULA = '=HYPERLINK("http://example.invalid","Belgique")'
FORMULA_LINE = b'BE;"=HYPERLINK(""http://example.invalid"",""Belgique"")";199901;999912'


def hostile_countries() -> bytes:
    return (packaged_label("Libelle_PAYS.txt").replace(b"DE;Allemagne;190001;999912", HOSTILE_LINE)
            .replace(b"BE;Belgique;199901;999912", FORMULA_LINE))


def test_quoted_label_with_markup_and_separators_parses_exactly():
    labels = parse_label_file(hostile_countries(), "Libelle_PAYS.txt")
    assert labels.loc[labels["code"] == "DE", "label"].tolist() == [HOSTILE]
    assert labels.loc[labels["code"] == "FR", "label"].tolist() == ["France"]


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_label_is_shown_as_text_everywhere(data_dir, tmp_path, capsys):
    source = tmp_path / "source"
    source.mkdir()
    for flow, word in (("E", "export"), ("I", "import")):
        (source / f"202502-Regional-2024-{word}.zip").write_bytes(
            year_zip(2024, flow, labels={"Libelle_PAYS.txt": hostile_countries()}))
    assert cli.main(["build", "--year", "2024", "--source", str(source), "--departement", "34"]) == 0

    store = data_dir / "published" / "trade.duckdb"
    with duckdb.connect(str(store), read_only=True) as connection:
        names = connection.execute("SELECT DISTINCT country_name FROM partner_balance WHERE country_code = 'DE'")
        assert names.fetchall() == [(HOSTILE,)]

    folder = data_dir / "fiches" / "2024"
    page = (folder / "departement-34.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page
    svg = ElementTree.parse(folder / "departement-34" / "partners.svg").getroot()
    shown = ["".join(element.itertext()) for element in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert HOSTILE in shown  # the picture shows the label as written
    assert not list(svg.iter("{http://www.w3.org/2000/svg}script")) and not list(svg.iter("script"))
    table = pd.read_csv(folder / "departement-34" / "partners.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert HOSTILE in table.values
    # In a spreadsheet the formula is text; in the page it is the label as written, escaped.
    assert "'" + FORMULA in table.values and FORMULA not in table.values
    assert "=HYPERLINK(&#34;http://example.invalid&#34;,&#34;Belgique&#34;)" in page or \
        "=HYPERLINK(&quot;http://example.invalid&quot;,&quot;Belgique&quot;)" in page

    # A crafted département code is refused before any query, and nothing changes.
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    crafted = "34' OR '1'='1"
    assert cli.main(["build", "--year", "2024", "--source", str(source), "--departement", crafted]) == 1
    assert f"unknown département code {crafted!r}" in capsys.readouterr().err
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before

