"""The city picker's data file: Indian states and union territories with their cities.

Every city must be one the server knows (chat.cities), or posting to it would be
refused. No browser needed.
"""

import json
from pathlib import Path

from chat.cities import is_known

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


def test_every_city_is_known_to_the_server():
    unknown = [city for region in load()["states"] for city in region["cities"] if not is_known(city)]
    assert unknown == []
