"""Hostile labels and codes: parsed exactly, shown as text (never markup), never spliced into SQL."""

from __future__ import annotations

import dataclasses
import hashlib
from xml.etree import ElementTree

import duckdb
import pandas as pd
import pytest

from trade_pipeline import cli
from trade_pipeline.charts.files import read_figures
from trade_pipeline.lib.nomenclature import LabelFileError, parse_label_file

from .support import packaged_label, territory_data, year_zip

#: What a compromised or careless label file could hold: markup, quotes, `;` inside a field, `&`.
HOSTILE = '<script>x</script>; "DE" & Cie'
HOSTILE_LINE = b'DE;"<script>x</script>; ""DE"" & Cie";190001;999912'


def hostile_countries() -> bytes:
    return packaged_label("Libelle_PAYS.txt").replace(b"DE;Allemagne;190001;999912", HOSTILE_LINE)


def test_quoted_label_with_markup_and_separators_parses_exactly():
    labels = parse_label_file(hostile_countries(), "Libelle_PAYS.txt")
    assert labels.loc[labels["code"] == "DE", "label"].tolist() == [HOSTILE]
    assert labels.loc[labels["code"] == "FR", "label"].tolist() == ["France"]


@pytest.mark.parametrize("label", ['=HYPERLINK("http://x.example/","click")', "+33 6", "-2+3", "@SUM(A1)",
                                   "\t=1+1", " \r=1+1"])
def test_a_label_a_spreadsheet_would_run_is_refused_at_its_file_with_line_and_column(label):
    """OWASP « CSV injection »: labels reach the published CSVs, which people open in spreadsheets.
    No DGDDI label starts so; such a file is refused where it is read (nothing is stored)."""
    quoted = label.replace('"', '""')
    data = packaged_label("Libelle_PAYS.txt").replace(b"BE;Belgique;199901;999912",
                                                      f'BE;"{quoted}";199901;999912'.encode())
    line = data.split(b"\r\n").index(f'BE;"{quoted}";199901;999912'.encode()) + 1
    with pytest.raises(LabelFileError) as refused:
        parse_label_file(data, "Libelle_PAYS.txt")
    assert str(refused.value).startswith(f"Libelle_PAYS.txt, line {line}, column 2 (Libellé): "
                                         f"{label.strip()[:60]!r} starts with")
    code = packaged_label("Libelle_PAYS.txt").replace(b"BE;Belgique;", b"=1;Belgique;")
    with pytest.raises(LabelFileError, match=r"column 1 \(Code\): '=1'"):
        parse_label_file(code, "Libelle_PAYS.txt")


@pytest.mark.browser
def test_a_chart_draws_a_hostile_label_as_text(tmp_path):
    """The picture, at the layer that draws it: the label as written, in text elements, no markup."""
    from trade_pipeline.charts.partners import partners_chart
    from trade_pipeline.charts.pictures import PictureJob, render_pictures

    herault = territory_data()["departement-34"]
    partners = herault.partners.copy()
    partners.loc[partners["country_code"] == "DE", ["country_name", "short"]] = HOSTILE
    chart = partners_chart(dataclasses.replace(herault, partners=partners))
    job = PictureJob(chart.figure, tmp_path / "partners.svg", tmp_path / "partners.png", chart.width, chart.height)
    render_pictures([job])
    svg = ElementTree.parse(job.svg).getroot()
    # A long label is wrapped at spaces onto lines (one <tspan> each): read it back as words.
    shown = [" ".join(" ".join(element.itertext()).split())
             for element in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert HOSTILE in shown
    assert not list(svg.iter("{http://www.w3.org/2000/svg}script")) and not list(svg.iter("script"))


@pytest.mark.slow
def test_hostile_label_is_shown_as_text_everywhere(data_dir, tmp_path, capsys):
    """From the label file to the store, the fiche and the chart's table (the picture drawn from
    that table's figure is proven above; this build draws none)."""
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
    # The figure the picture is drawn from holds the label escaped for plotly's markup, which the
    # test above draws back as the text written.
    labels = [label for bars in read_figures(folder / "departement-34")["partners"]["data"] for label in bars["y"]]
    assert any(label.startswith("&lt;script&gt;x&lt;/script&gt;; ") for label in labels)
    assert not [label for label in labels if "<script" in label]
    table = pd.read_csv(folder / "departement-34" / "partners.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert HOSTILE in table.values

    # A crafted département code is refused before any query, and nothing changes.
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    crafted = "34' OR '1'='1"
    assert cli.main(["build", "--year", "2024", "--source", str(source), "--departement", crafted]) == 2
    assert f"unknown département code {crafted!r}" in capsys.readouterr().err
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before

