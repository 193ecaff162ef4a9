"""Notes triggered by the data: each appears when its condition holds, and only then."""

from trade_pipeline.fiches.notes import CONCENTRATION_NOTE, ENERGY_SHARE_NOTE, data_notes

from .support import territory_data

BALANCED = [  # 10 products of equal weight to 10 countries, no energy: nothing to warn about
    (2024, 1, "E", "01", "18", a129, cpf4, country, 100)
    for a129, cpf4, country in zip(
        ["A01Z", "C10A", "C11Z", "C13Z", "C14Z", "C16Z", "C20B", "C21Z", "C22A", "C27B"],
        ["0111", "1011", "1102", "1310", "1413", "1610", "2042", "2120", "2211", "2711"],
        ["DE", "BE", "IT", "ES", "US", "GB", "NL", "CH", "CN", "PL"], strict=True)
] + [(2024, 1, "I", "01", "18", "C29A", "2910", "DE", 500)]


def kinds(rows, key):
    return {note.kind for note in data_notes(territory_data(rows, [key])[key])}


def test_nothing_to_say_about_a_diversified_territory():
    assert kinds(BALANCED, "departement-01") == set()


def test_energy_above_the_threshold_explains_ports_and_refineries():
    energy_share = ENERGY_SHARE_NOTE + 0.05
    value = round(500 * energy_share / (1 - energy_share))
    rows = BALANCED + [(2024, 1, "I", "01", "18", "C19Z", "1920", "NO", value)]
    data = territory_data(rows, ["departement-01"])["departement-01"]
    notes = {note.kind: note for note in data_notes(data)}
    assert "energy" in notes and "hors énergie" in notes["energy"].text.lower()
    below = BALANCED + [(2024, 1, "I", "01", "18", "C19Z", "1920", "NO", round(500 * 0.1 / 0.9))]
    assert "energy" not in kinds(below, "departement-01")


def test_one_product_above_the_threshold_means_concentration():
    share = CONCENTRATION_NOTE + 0.05
    value = round(1000 * share / (1 - share))
    rows = BALANCED + [(2024, 1, "E", "01", "18", "C30C", "3030", "US", value)]
    data = territory_data(rows, ["departement-01"])["departement-01"]
    concentration = [n for n in data_notes(data) if n.kind == "concentration"]
    assert concentration and "Aéronautique et spatial" in concentration[0].text
    assert "concentration" not in kinds(BALANCED + [(2024, 1, "E", "01", "18", "C30C", "3030", "US", 300)],
                                        "departement-01")


def test_territory_notes_for_paris_overseas_monaco_and_corsica():
    rows = [(2024, 1, "E", code, region, "C11Z", "1102", "DE", 100) for code, region in
            (("75", "03"), ("9D", "24"), ("99", "21"), ("20", "22"))]
    rows += [(2024, 1, "I", code, region, "C11Z", "1102", "DE", 100) for code, region in
             (("75", "03"), ("9D", "24"), ("99", "21"), ("20", "22"))]
    keys = ["departement-75", "region-03", "departement-9D", "region-24", "departement-99", "region-21",
            "departement-20", "region-22"]
    data = territory_data(rows, keys)
    found = {key: {n.kind for n in data_notes(d)} for key, d in data.items()}
    assert "paris" in found["departement-75"] and "paris" in found["region-03"]
    assert "overseas" in found["departement-9D"] and "overseas" in found["region-24"]
    assert "monaco" in found["departement-99"] and "monaco" in found["region-21"]
    assert "corsica" in found["departement-20"] and "corsica" in found["region-22"]
    assert "paris" not in found["departement-9D"] and "overseas" not in found["departement-75"]


def test_the_synthetic_sample_is_always_announced():
    data = territory_data(BALANCED, ["departement-01"])["departement-01"]
    data.synthetic = True
    assert "synthetic" in {n.kind for n in data_notes(data)}
