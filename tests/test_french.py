"""The one French formatter: the typography every fiche and chart relies on."""

import math

import pytest

from trade_pipeline.lib import french

NB = "\u202f"  # narrow no-break space
MINUS = "\u2212"


@pytest.mark.parametrize(("value", "expected"), [
    (0, f"0{NB}€"),
    (450, f"450{NB}€"),
    (12_345, f"12{NB}k€"),
    (999_499, f"999{NB}k€"),
    (999_999, f"1,0{NB}M€"),  # never « 1 000 k€ »
    (2_674_200_000, f"2,7{NB}Md€"),
    (950_000_000, f"950,0{NB}M€"),
    (999_960_000, f"1,0{NB}Md€"),
    (580_354_500_000, f"580,4{NB}Md€"),
    (-300_000_000, f"{MINUS}300,0{NB}M€"),
    (-1_500_000_000_000, f"{MINUS}1{NB}500,0{NB}Md€"),
])
def test_amounts_in_the_most_readable_unit(value, expected):
    assert french.eur(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (2_674_200_000, f"2{NB}674,2{NB}M€"),
    (4_818_700_000, f"4{NB}818,7{NB}M€"),
    (580_354_500_000, f"580{NB}354,5{NB}M€"),
    (-2_144_500_000, f"{MINUS}2{NB}144,5{NB}M€"),
    (450_000, f"450{NB}k€"),  # below 1 M€ the headline says k€ rather than « 0,5 M€ »
    (0, f"0{NB}€"),
])
def test_headline_totals_in_millions_as_the_national_fiche(value, expected):
    assert french.headline(value) == expected


def test_signs_are_always_written_with_a_true_minus():
    assert french.signed_eur(190_000_000) == f"+190,0{NB}M€"
    assert french.signed_eur(-190_000_000) == f"{MINUS}190,0{NB}M€"
    assert french.signed_eur(0) == f"0{NB}€"
    assert french.signed_pct(0.25) == f"+25,0{NB}%"
    assert french.signed_pct(-0.031) == f"{MINUS}3,1{NB}%"
    assert french.number(-0.04, 1) == "0,0"  # a value that rounds to zero has no sign
    assert french.signed_headline(-2_144_500_000) == f"{MINUS}2{NB}144,5{NB}M€"  # as the totals beside it
    assert french.signed_headline(12_000_000) == f"+12,0{NB}M€" and french.signed_headline(0) == f"0{NB}€"


@pytest.mark.parametrize(("share", "expected"), [
    (0.054, f"5,4{NB}%"), (0.0046, f"0,46{NB}%"), (0.00704, f"0,70{NB}%"), (0.128, f"12,8{NB}%"),
    (0.0, f"0,0{NB}%"), (1.0, f"100,0{NB}%"), (None, "–"), (math.nan, "–"),
])
def test_percentages_with_decimal_comma(share, expected):
    assert french.pct(share) == expected


def test_thousands_are_grouped_by_a_narrow_no_break_space():
    assert french.number(1234567.891, 2) == f"1{NB}234{NB}567,89"
    assert " " not in french.eur(123_456_789_000) and "." not in french.eur(1_234_567)
