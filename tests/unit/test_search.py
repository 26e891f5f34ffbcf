import pytest

from bot.services import cases
from bot.services.search import search_key, skeleton


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Ерзан Елшібаев", "Erzhan Elshibayev"),
        ("Эржан Эльшибаев", "Erzhan Elshibayev"),
        ("Даулетмурат Таджимуратов", "Dauletmurat Tadzhimuratov"),
        ("Бузургмеҳр Ёров", "Buzurgmehr Yorov"),
        ("Махабат Тажибек кызы", "Makhabat Tajibek Kyzy"),
        ("Руҳшона Ҳакимова", "Rukhshona Hakimova"),
        ("Валижон Калонов", "Valijon Kalonov"),
    ],
)
def test_scripts_meet_in_one_skeleton(cyrillic: str, latin: str):
    assert skeleton(cyrillic) == skeleton(latin)


def test_uzbek_latin_apostrophes_and_turkmen_letters():
    assert skeleton("Oʻrinboy") == skeleton("O'rinboy") == skeleton("Ўринбой")
    assert skeleton("Şatlyk") == skeleton("Шатлык")


def test_search_key_holds_every_name_and_slug():
    key = search_key(["Erzhan Elshibayev", "Ерзан Елшібаев"], "erzhan-elshibayev")
    assert "erzhan elshibayev" in key
    assert "erzan elshibaev" in key
    assert skeleton("Elshibayev") in key


def test_a_query_on_two_lines_is_two_words():
    """A line break was dropped as a control character: "Line one\\nline two" searched for
    "Line oneline two"."""
    assert cases.normalise_query("Line one\nline two") == "Line one line two"
    assert cases.normalise_query("Testov\r\n\tAlisher\x00") == "Testov Alisher"
