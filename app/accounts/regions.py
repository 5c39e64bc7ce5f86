"""China's administrative regions (GB/T 2260 codes), from the dataset kept in
`data/regions.json`: provinces -> cities -> districts."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "regions.json"


@dataclass(frozen=True)
class ResolvedRegion:
    province_code: str
    province: str
    city_code: str
    city: str
    district_code: str
    district: str


@cache
def tree() -> list[dict]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@cache
def _index() -> dict[str, tuple[str, str | None]]:
    """code -> (name, parent code)."""
    index: dict[str, tuple[str, str | None]] = {}
    for province in tree():
        index[province["code"]] = (province["name"], None)
        for city in province["cities"]:
            index[city["code"]] = (city["name"], province["code"])
            for district in city["districts"]:
                index[district["code"]] = (district["name"], city["code"])
    return index


def provinces() -> list[dict]:
    return [{"code": p["code"], "name": p["name"]} for p in tree()]


def children(code: str) -> list[dict]:
    """Cities of a province or districts of a city."""
    for province in tree():
        if province["code"] == code:
            return [{"code": c["code"], "name": c["name"]} for c in province["cities"]]
        for city in province["cities"]:
            if city["code"] == code:
                return [{"code": d["code"], "name": d["name"]} for d in city["districts"]]
    return []


def resolve(province_code: str, city_code: str, district_code: str) -> ResolvedRegion | None:
    """The names for a consistent (province, city, district) triple, else None."""
    index = _index()
    district = index.get(district_code or "")
    city = index.get(city_code or "")
    province = index.get(province_code or "")
    if not (district and city and province):
        return None
    if district[1] != city_code or city[1] != province_code or province[1] is not None:
        return None
    return ResolvedRegion(province_code, province[0], city_code, city[0], district_code, district[0])
