"""Reference data: the real DGDDI label files in their various encodings and layouts."""

from pathlib import Path

import pytest

from trade_pipeline.lib.nomenclature import (
    LabelFileError,
    a129_for_cpf4,
    decode_text,
    label_kind,
    packaged_reference,
    parse_department_file,
    parse_label_file,
    valid_during,
)

from .support import packaged_label

REAL = Path(__file__).parent / "fixtures" / "real"


def label(table, code):
    return table.loc[table["code"] == code, "label"].tolist()


def test_cp1252_cpf4_file_with_quoted_semicolons():
    table = parse_label_file(packaged_label("Libelle_CPF4_rev2.1.txt"), "Libelle_CPF4_rev2.1.txt")
    assert len(table) == 576
    assert label(table, "0111") == ["Céréales (à l'exclusion du riz), légumineuses et oléagineux"]
    # A `"`-quoted label keeps its inner `;`; `œ` (0x9C in cp1252) decodes.
    assert label(table, "0130")[0].startswith("Plants : plants de pépinière") and " ; " in label(table, "0130")[0]
    assert any("œ" in text for text in table["label"])
    assert table["code"].str.fullmatch(r"\d{4}").all()


def test_bom_a129_file_with_no_break_spaces_and_quotes():
    table = parse_label_file(packaged_label("Libelle_A129.txt"), "Libelle_A129.txt")
    assert len(table) == 76
    assert table["code"].iloc[0] == "A01Z"  # the BOM is not part of the first code
    assert label(table, "C26E") == ["Appareils de mesure, d'essai et de navigation ; articles d'horlogerie"]
    assert not any("\u00a0" in text for text in table["label"])


def test_2019_cpf4_variant_with_pipes_and_utf8():
    table = parse_label_file((REAL / "Libelle_CPF4_2019.txt").read_bytes(), "Libelle_CPF4.txt")
    assert len(table) == 575 and "7200" not in set(table["code"])
    assert all(" | " not in text for text in table["label"])
    assert (table["valid_from"] == 201101).all()


def test_duplicate_country_codes_resolve_by_year():
    pays = packaged_reference().table("pays")
    assert set(label(valid_during(pays, 2024), "QU")) == {"Pays et territoires non déterminés"}
    assert set(label(valid_during(pays, 1995), "QU")) == {"Pays NDA"}
    assert label(valid_during(pays, 2024), "XS") == ["Serbie"]
    assert label(valid_during(pays, 2024), "NA") == ["Namibie"]
    assert len(valid_during(pays, 2024)) == 250


def test_departement_region_file_has_101_codes_in_14_regions():
    table = parse_department_file(packaged_label("Departement_region.txt"), "Departement_region.txt")
    assert len(table) == 101
    regions = dict(zip(table["department_code"], table["region_code"], strict=True))
    assert regions["34"] == "12" and regions["20"] == "22" and regions["99"] == "21" and regions["9E"] == "24"
    assert table["region_code"].nunique() == 14


def test_department_file_with_announced_validity_columns():
    data = "34;Hérault;12;Occitanie;201601;999912\r\n".encode()
    table = parse_department_file(data, "Departement_region.txt")
    assert table.iloc[0][["valid_from", "valid_to"]].tolist() == [201601, 999912]


def test_undecodable_label_file_names_the_file():
    with pytest.raises(LabelFileError, match=r"Libelle_PAYS.txt: cannot decode .* UTF-8 or Windows-1252"):
        decode_text(b"AD;Andorre\x81\xff;190001;999912\r\n", "Libelle_PAYS.txt")


def test_label_file_with_wrong_field_count_names_the_line():
    with pytest.raises(LabelFileError, match=r"Libelle_A129.txt, line 2: expected 4 fields"):
        parse_label_file(b"A01Z;Produits;200901;999912\nA02Z;x;y\n", "Libelle_A129.txt")


def test_label_files_are_recognised_by_name():
    assert label_kind("Regional-2019-export/Libelle_CPF4_rev2.1_2.txt") == "cpf4"
    assert label_kind("DEPARTEMENT.txt") == "departements"
    assert label_kind("Region_2019_Export.txt") is None


def test_zip_labels_take_precedence():
    override = "AD;Principauté d'Andorre;190001;999912\r\n".encode()
    reference = packaged_reference().with_overrides({"pays": ("x.zip:Libelle_PAYS.txt", override)})
    assert label(reference.table("pays"), "AD") == ["Principauté d'Andorre"]
    assert reference.sources["pays"] == "x.zip:Libelle_PAYS.txt"
    assert len(reference.table("cpf4")) == 576  # the others stay packaged


def test_cpf4_to_a129():
    assert a129_for_cpf4("3030") == "C30C"
    assert a129_for_cpf4("1102") == "C11Z"
    assert a129_for_cpf4("2042") == "C20B"
    assert a129_for_cpf4("3511") == "D35A"
    assert a129_for_cpf4("4110") is None


def test_chart_labels_are_never_cut_short():
    """A « … » on paper hides what the reader needs: charts wrap long labels instead."""
    from trade_pipeline.lib.nomenclature import packaged_reference, short_label

    reference = packaged_reference()
    for kind in ("pays", "a129", "cpf4"):
        table = reference.table(kind)
        shorts = [short_label(kind, code, label) for code, label in zip(table["code"], table["label"], strict=True)]
        assert not [s for s in shorts if "…" in s], kind
    assert short_label("pays", "QV", "Pays et territoires non déterminés dans les échanges intracommunautaires") \
        == "Pays non déterminés (intra-UE)"
