"""The list of courts (bot/data/courts.yaml): every court named in every language the bot
speaks, the two Uzbek alphabets saying the same, and names read by stored value."""

from __future__ import annotations

from bot.services import courts
from config.settings import SUPPORTED_LOCALES
from tests.test_uzbek_scripts import to_latin

COUNTRIES = {"kz", "kg", "tj", "tm", "uz"}


def test_every_court_has_every_language_and_a_country_of_the_campaign():
    listed = courts.catalogue()
    assert listed
    for court in listed.values():
        assert set(court.names) == set(SUPPORTED_LOCALES), court.key
        assert all(name.strip() == name and name for name in court.names.values()), court.key
        assert court.country in COUNTRIES, court.key
        assert to_latin(court.names["uz_Cyrl"]) == court.names["uz"], court.key
    # Each country's highest court comes first, where an editor looks first.
    for country in COUNTRIES:
        assert courts.of_country(country)[0].key == f"{country}-supreme"


def test_a_stored_court_reads_in_the_readers_language_and_typed_text_as_typed():
    stored = courts.catalogue()["kg-bishkek-city"].stored
    assert courts.name(stored, ["ky"]) == "Бишкек шаардык соту"
    assert courts.name(stored, ["xx", "ru"]) == "Бишкекский городской суд"
    assert courts.name(stored, []) == "Bishkek City Court"
    assert courts.name("Pervomaisky District Court", ["ru"]) == "Pervomaisky District Court"
    assert courts.name("court:gone-from-the-list", ["ru"]) == "court:gone-from-the-list"
