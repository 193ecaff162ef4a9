"""French that agrees: every territory's name in every sentence the fiche writes — the article,
elision and contraction of « de », the number of the verbs and participles that follow it.

The sentences are the real ones: every chart's title and alt text, the fiche's introduction,
totals, exposure notes, United States lead, data notes and comparison tables, written for each of
the 116 territories of the reference file (lib/territories.py), with the data that makes each
conditional sentence appear."""

from __future__ import annotations

import dataclasses
import re

import pytest

from trade_pipeline.charts.figures import COMPARISON_CHARTS, OWN_CHARTS
from trade_pipeline.charts.partners import partners_chart
from trade_pipeline.charts.united_states import united_states_chart
from trade_pipeline.fiches.notes import data_notes
from trade_pipeline.fiches.page import _members_tables, members_note
from trade_pipeline.fiches.prose import exposure_notes, introduction, totals_boxes, united_states_lead
from trade_pipeline.lib.territories import territories, territory

from .support import territory_data

#: The verbs the templates put after a territory's name: singular → plural.
VERBS = {"exporte": "exportent", "importe": "importent", "a": "ont", "est": "sont", "dépend": "dépendent",
         "se": "se", "n'a": "n'ont", "n'exporte": "n'exportent", "n'importe": "n'importent"}
REFLEXIVE = {"distingue": "distinguent"}
PARTICIPLES = {("m", False): "mis", ("f", False): "mise", ("m", True): "mis", ("f", True): "mises"}


def all_texts(data, charts=None) -> list[str]:  # noqa: ANN001
    """Every sentence the fiche writes about `data.territory` (the charts: `charts`, by default
    all of them)."""
    texts = []
    if charts is None:
        charts = OWN_CHARTS + (COMPARISON_CHARTS if data.territory.level != "departement" else ())
    for build in charts:
        chart = build(data)
        texts += [chart.title, chart.alt]
    texts += [introduction(data), united_states_lead(data), *exposure_notes(data)]
    texts += [line for box in totals_boxes(data) for line in box["details"]]
    texts += [note.text for note in data_notes(data)]
    for flow in ("E", "I"):
        texts += [table["heading"] for table in _members_tables(data, flow)]
    texts.append(members_note(data))
    return texts


def grammar_errors(text: str, t) -> list[str]:  # noqa: ANN001
    """What is wrong with how `text` names territory `t`."""
    errors = []
    for wrong in (r"\bde le\b", r"\bde les\b", r"\bà le\b", r"\bà les\b", r"\bde [AEIOUYÉÈÊÂÎÔaeiouyéèêâîô]",
                  r"\b(la|le|les|l'|du|des) (La|Le|Les) ", r"\bdu l'", r"\bde du\b", r"\bde des\b"):
        for match in re.finditer(wrong, text):
            errors.append(f"« {text[max(0, match.start() - 20):match.end() + 20]} » ({wrong})")
    # A sentence never starts with a lower-case article.
    for match in re.finditer(r"(?:^|[.!?] )(l'|le |la |les )", text):
        errors.append(f"lower-case start: « {text[match.start():match.end() + 25]} »")
    for name in {t.the, t.subject}:
        for match in re.finditer(re.escape(name) + r" (\S+)(?: (\S+))?(?: (\S+))?", text):
            verb, second, third = match.group(1), match.group(2) or "", match.group(3) or ""
            singular = {v for v in VERBS if v != "se"}
            plural = {VERBS[v] for v in singular}
            if (t.plural and verb in singular) or (not t.plural and verb in plural):
                errors.append(f"verb: « {match.group(0)} »")
            if verb == "se" and second in (REFLEXIVE.values() if not t.plural else REFLEXIVE):
                errors.append(f"verb: « {match.group(0)} »")
            if verb in ("est", "sont") and second in PARTICIPLES.values():
                expected = PARTICIPLES[("f" if t.feminine else "m", t.plural)]
                if second != expected:
                    errors.append(f"participle: « {match.group(0)} » (expected {expected})")
            del third
    if t.plural:  # « leurs exportations » in a sentence whose subject is the territory
        subject = re.compile("(?:" + "|".join(re.escape(n) for n in {t.the, t.subject}) + r") (?:"
                             + "|".join(re.escape(v) for v in VERBS.values()) + r")\b")
        for sentence in re.split(r"(?<=[.!?]) ", text):
            if subject.search(sentence):
                for match in re.finditer(r"\b(ses|sa|son) ", sentence):
                    errors.append(f"possessive: « {sentence[max(0, match.start() - 40):match.end() + 15]} »")
    return errors


def variants(data):  # noqa: ANN001
    """`data` and the variants that make each conditional sentence appear — no trade with the
    United States, no partner at all, a profile far from France's or close to it — each with the
    charts whose words they change."""
    yield data, None
    no_us = data.partners[data.partners["country_code"] != "US"]
    yield dataclasses.replace(data, partners=no_us, united_states=data.united_states.iloc[0:0],
                              united_states_imports=data.united_states_imports.iloc[0:0]), \
        (united_states_chart, lambda d: united_states_chart(d, "I"))
    yield dataclasses.replace(data, partners=data.partners.iloc[0:0]), (partners_chart,)
    if data.comparison is not None and len(data.comparison):
        close = data.comparison.assign(value=data.comparison["france_value"])
        far = data.comparison.assign(value=data.comparison["france_value"] * 2)
        yield dataclasses.replace(data, comparison=close), ()
        yield dataclasses.replace(data, comparison=far), ()


def as_territory(data, other):  # noqa: ANN001
    return dataclasses.replace(data, key=other.key, territory=other)


def test_names_in_context():
    cases = {
        "departement-34": ("l'Hérault", "L'Hérault", "de l'Hérault", False),
        "departement-13": ("les Bouches-du-Rhône", "Les Bouches-du-Rhône", "des Bouches-du-Rhône", True),
        "departement-59": ("le Nord", "Le Nord", "du Nord", False),
        "departement-20": ("la Corse", "La Corse", "de la Corse", False),
        "region-08": ("les Pays de la Loire", "Les Pays de la Loire", "des Pays de la Loire", True),
        "departement-75": ("Paris", "Paris", "de Paris", False),
        "departement-9D": ("La Réunion", "La Réunion", "de La Réunion", False),
        "departement-9E": ("Mayotte", "Mayotte", "de Mayotte", False),
        "departement-99": ("la Principauté de Monaco", "La Principauté de Monaco", "de la Principauté de Monaco", False),
        "region-24": ("l'ensemble des départements d'outre-mer", "L'ensemble des départements d'outre-mer",
                      "de l'ensemble des départements d'outre-mer", False),
        "france-FR": ("la France", "La France", "de la France", False),
    }
    for key, (the, subject, of, plural) in cases.items():
        t = territory(key)
        assert (t.the, t.subject, t.of, t.plural) == (the, subject, of, plural), key
    yvelines, herault = territory("departement-78"), territory("departement-34")
    assert yvelines.verb("exporte", "exportent") == "exportent" and herault.verb("exporte", "exportent") == "exporte"
    assert yvelines.agree("mis", "mise", "mis", "mises") == "mises"
    assert territory("region-01").agree("mis", "mise", "mis", "mises") == "mis"
    assert (yvelines.possessive, herault.possessive) == ("leurs", "ses")
    assert (yvelines.its("région", feminine=True), herault.its("région", feminine=True)) == ("leur région", "sa région")
    # The 16 plural names of the reference file.
    assert sorted(t.code for t in territories() if t.plural) == sorted(
        ["01", "08", "04", "05", "06", "08", "13", "22", "40", "64", "65", "66", "78", "79", "88", "92"])


def test_the_checker_finds_what_the_issue_found():
    """The check below is not blind: the sentences of the issue fail it."""
    bouches = territory("departement-13")
    assert grammar_errors("En 2024, les Bouches-du-Rhône exporte 1 M€.", bouches)
    assert grammar_errors("Les Pays de la Loire se distingue par une part plus élevée.", territory("region-08"))
    assert grammar_errors("Les exportations de les Yvelines.", territory("departement-78"))
    assert grammar_errors("Les Yvelines sont mis en évidence.", territory("departement-78"))
    assert grammar_errors("Les Bouches-du-Rhône exportent 1 M€, soit 5 % de ses exportations.", bouches)
    assert grammar_errors("Les exportations de Occitanie.", territory("region-12"))
    assert grammar_errors("la Réunion exporte.", territory("departement-9D"))
    assert not grammar_errors("En 2024, les Bouches-du-Rhône exportent 1 M€ ; soit 5 % de leurs exportations.", bouches)


def test_every_sentence_agrees_with_every_territory_name():
    """Hand-written Hérault data, told as each of the 116 territories, in every variant."""
    base = territory_data()["departement-34"]
    errors = []
    for t in territories():
        for data, charts in variants(as_territory(base, t)):
            for text in all_texts(data, charts):
                errors += [f"{t.key}: {e}" for e in grammar_errors(text, t)]
    assert errors == []


@pytest.mark.slow
def test_every_sentence_agrees_on_the_sample(sample_build):
    """Each territory of the sample with its own figures (its own notes, ranks, members)."""
    import duckdb

    from trade_pipeline.aggregation.reads import load

    with duckdb.connect(str(sample_build / "warehouse" / "warehouse.duckdb"), read_only=True) as connection:
        data = load(connection, 2024, [t.key for t in territories()])
    errors = []
    for t in territories():
        for text in all_texts(data[t.key]):
            errors += [f"{t.key}: {e}" for e in grammar_errors(text, t)]
    assert errors == []
    assert len(data["region-12"].members) == 13 and len(data["france-FR"].members) == 14 + 101


def test_every_sentence_of_the_latest_quarters_agrees_with_every_territory_name():
    import pandas as pd

    from trade_pipeline.fiches.conjoncture import headline

    row = pd.Series({"measure": "ytd", "first_year": 2025, "first_quarter": 1, "last_year": 2025, "last_quarter": 3,
                     "exports_eur": 2_149_200_000, "imports_eur": 3_950_300_000, "balance_eur": -1_801_100_000,
                     "exports_change_pct": 7.4, "imports_change_pct": -2.5, "previous_complete": True,
                     "previous_quarters_missing": 0})
    lacking = row.copy()
    lacking.update({"measure": "r4q", "first_year": 2024, "first_quarter": 4, "previous_complete": False,
                    "previous_quarters_missing": 1, "exports_change_pct": float("nan")})
    errors = {}
    for t in territories():
        for sentence in (headline(t, row), headline(t, lacking)):
            if found := grammar_errors(sentence, t):
                errors[t.key] = found
    assert errors == {}
    bouches, herault = territory("departement-13"), territory("departement-34")
    assert headline(bouches, row).startswith("Sur T1–T3\u202f2025, les Bouches-du-Rhône ont exporté pour 2\u202f149,2\u202fM€")
    assert "par rapport aux mêmes trimestres un an plus tôt." in headline(herault, row)
    assert headline(herault, lacking).endswith("la comparaison avec les quatre trimestres précédents n'est pas possible : "
                                               "1 trimestre de cette période manque dans les données.")
