"""The territories of the fiches and their keys."""

import pytest

from trade_pipeline.lib.territories import (
    FRANCE_KEY,
    department_scope,
    parse_territory_key,
    territories,
    territory,
    territory_key,
)
from trade_pipeline.orchestration.partitions import parse_partition_key, partition_key


def test_territories_france_regions_departments_with_insee_codes():
    assert len(territories()) == 1 + 14 + 101
    assert territory("departement-34").name == "Hérault" and territory("departement-34").parent_region_code == "12"
    assert territory("departement-9A").insee_code == "971" and territory("departement-9A").insee_region_code == "01"
    assert territory("departement-20").insee_codes == ("2A", "2B")  # Corsica as one unit: 2A + 2B
    assert territory("region-12").insee_code == "76" and territory("region-24").insee_codes == ("01", "02", "03", "04", "06")
    assert territory("departement-99").insee_codes == ()  # Monaco: no INSEE département
    assert territory("france-FR").name == "France"


def test_keys_are_built_and_parsed_in_one_place():
    assert territory_key("departement", "9A") == "departement-9A"
    assert parse_territory_key("departement-9A") == ("departement", "9A")
    assert parse_territory_key(FRANCE_KEY) == ("france", "FR")
    for bad in ("34", "commune-34000", "region-", ""):
        with pytest.raises(ValueError, match="not a territory key"):
            parse_territory_key(bad)
    assert str(partition_key(2024, "region-12")) == "region-12|2024"
    assert parse_partition_key("region-12|2024") == (2024, "region-12")


def test_a_fiche_compares_a_department_with_its_region_and_france():
    assert territory("departement-34").comparison_keys == ["region-12", "france-FR"]
    assert territory("region-12").comparison_keys == ["france-FR"]
    assert territory("france-FR").comparison_keys == []


def test_a_department_scope_is_france_the_regions_and_the_departments():
    assert department_scope(["34", "31", "75"]) == ["france-FR", "region-12", "departement-34", "departement-31",
                                                     "region-03", "departement-75"]
    with pytest.raises(ValueError, match="unknown département code '2A'"):
        department_scope(["2A"])
