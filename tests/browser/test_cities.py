"""The city picker's data file: Indian states and union territories with their cities.

Every city must be spelled the way the server stores it (chat.forms.canonical_city), or
a city's feed, its posts and its statistics would not line up. No browser needed.
"""

import json
from pathlib import Path

from chat.forms import canonical_city

CITIES_FILE = Path(__file__).resolve().parents[2] / "chat" / "static" / "chat" / "data" / "cities.json"


def load():
    return json.loads(CITIES_FILE.read_text(encoding="utf-8"))


def test_every_state_and_union_territory_with_its_major_cities():
    data = load()
    regions = data["states"]
    cities = [city for region in regions for city in region["cities"]]
    assert len(regions) >= 25 and len(cities) >= 150
    assert {region["kind"] for region in regions} == {"state", "union_territory"}
    assert sum(region["kind"] == "state" for region in regions) == 28
    assert sum(region["kind"] == "union_territory" for region in regions) == 8
    assert len(cities) == len(set(cities)), "a city is listed twice"
    assert all(region["cities"] for region in regions)
    assert set(data["popular"]) <= set(cities)


def test_every_city_is_spelled_as_the_server_stores_it():
    for region in load()["states"]:
        for city in region["cities"]:
            assert canonical_city(city) == city, f"{city!r} would be stored as {canonical_city(city)!r}"
