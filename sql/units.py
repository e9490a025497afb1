"""Resolve a report's publishing unit to its place in the admin hierarchy.

Evidence, strongest first: the portal registry row; the admin prefix printed in the unit name or title
(`洛浦县恰尔巴格镇`); the extractor's county/province hints (`《河南省政府信息公开办法》`); phone area codes
(`0379` -> 洛阳). Names are looked up in jionlp's bundled gazetteer (34 provinces, 350 prefectures, 3192
counties with 6-digit codes, 43k township names without codes). Township names are not unique nationally
(99 城关镇), so when the evidence leaves more than one candidate the unit stays unresolved and the
candidate count is kept; we never guess.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

LEVELS = ("province", "prefecture", "county", "township", "department", "unknown")
_TOWN_SUFFIX = re.compile(r"^(.+?)(街道办事处|街道|镇|民族乡|乡|苏木|办事处)$")
_DEPT_HINT = re.compile(r"(局|厅|办公室|委员会|委|办|中心|院|所|队|站|管委会|分局)$")
_GOV_TAIL = re.compile(r"(人民政府|政府)$")


def normalize_name(name: str | None) -> str:
    """NFKC, no whitespace or markdown, without the trailing 人民政府 that some titles carry."""
    if not name:
        return ""
    s = re.sub(r"[\s#\u3000\u00a0]+", "", unicodedata.normalize("NFKC", name))
    return _GOV_TAIL.sub("", s)


def town_base(name: str) -> str:
    """A township's name without its type suffix: 撤乡设镇 renames must still match (恰尔巴格乡/镇)."""
    m = _TOWN_SUFFIX.match(name)
    return m.group(1) if m else name


@dataclass(frozen=True, slots=True)
class Place:
    province: str
    province_code: str
    prefecture: str | None = None
    prefecture_code: str | None = None
    county: str | None = None
    county_code: str | None = None
    township: str | None = None


@dataclass(slots=True)
class Unit:
    unit_key: str
    unit_name: str
    level: str
    province: str | None = None
    province_code: str | None = None
    prefecture: str | None = None
    prefecture_code: str | None = None
    county: str | None = None
    county_code: str | None = None
    township: str | None = None
    township_code: str | None = None
    resolution: str = "unresolved"
    candidates: int | None = None
    evidence: str = ""

    def row(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class Gazetteer:
    provinces: dict[str, Place] = field(default_factory=dict)  # full name and alias -> place
    prefectures: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    counties: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    towns_exact: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    towns_base: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    area_codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # 0379 -> (河南, 洛阳)
    pref_alias: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # code -> aliases
    prov_alias: dict[str, str] = field(default_factory=dict)  # code -> alias
    admin_names: list[str] = field(default_factory=list)  # full names, longest first, for prefix parsing


def _jionlp_dict_dir() -> Path:
    # find the package without importing it: `import jionlp` loads far more than the gazetteer
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jionlp is required for unit resolution")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


def _read_location_text(d: Path) -> str:
    txt = d / "china_location.txt"
    if txt.exists():
        return txt.read_text(encoding="utf-8")
    import zipfile

    with zipfile.ZipFile(d / "china_location.zip") as z:
        return z.read("china_location.txt").decode("utf-8")


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    d = _jionlp_dict_dir()
    g = Gazetteer()
    prov = pref = county = None
    for line in _read_location_text(d).splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        parts = line.strip().split("\t")
        if not parts or not parts[0]:
            continue
        if depth == 0 and len(parts) == 3:
            prov = Place(parts[0], parts[1])
            g.provinces[parts[0]] = prov
            g.provinces[parts[2]] = prov
            g.prov_alias[parts[1]] = parts[2]
        elif depth == 1 and len(parts) == 3 and prov:
            pref = Place(prov.province, prov.province_code, parts[0], parts[1])
            g.prefectures[parts[0]].append(pref)
            g.pref_alias[parts[1]] = parts[2].split("/")
        elif depth == 2 and len(parts) == 3 and pref:
            county = Place(pref.province, pref.province_code, pref.prefecture, pref.prefecture_code,
                           parts[0], parts[1])
            g.counties[parts[0]].append(county)
        elif depth == 3 and county:
            t = Place(county.province, county.province_code, county.prefecture, county.prefecture_code,
                      county.county, county.county_code, parts[0])
            g.towns_exact[parts[0]].append(t)
            g.towns_base[town_base(parts[0])].append(t)
    names = set(g.prefectures) | set(g.counties) | {p.province for p in g.provinces.values()}
    g.admin_names = sorted(names, key=len, reverse=True)
    codes = d / "landline_phone_area_code.txt"
    if codes.exists():
        for line in codes.read_text(encoding="utf-8").splitlines():
            bits = line.split()
            if len(bits) == 2 and "/" in bits[1]:
                p, c = bits[1].split("/", 1)
                g.area_codes[bits[0]] = (p, c)
    return g


@dataclass(slots=True)
class _Hints:
    provinces: set[str] = field(default_factory=set)  # province codes
    prefectures: set[str] = field(default_factory=set)  # prefecture codes
    counties: set[str] = field(default_factory=set)  # county codes
    phone_prefectures: set[str] = field(default_factory=set)
    why: list[str] = field(default_factory=list)


def _split_prefix(g: Gazetteer, name: str) -> tuple[list[str], str]:
    """Peel admin names (full names only; aliases like 卫辉 would eat township names) off the front."""
    found: list[str] = []
    rest = name
    progress = True
    while rest and progress:
        progress = False
        for n in g.admin_names:
            if rest.startswith(n) and len(rest) >= len(n):
                found.append(n)
                rest = rest[len(n):]
                progress = True
                break
    return found, rest


def _add_admin_name(g: Gazetteer, h: _Hints, n: str, why: str) -> None:
    if n in g.counties:
        h.counties |= {p.county_code for p in g.counties[n] if p.county_code}
    if n in g.prefectures:
        h.prefectures |= {p.prefecture_code for p in g.prefectures[n] if p.prefecture_code}
    if n in g.provinces:
        h.provinces.add(g.provinces[n].province_code)
    h.why.append(f"{why}:{n}")


def _matches(p: Place, h: _Hints, layer: str) -> bool:
    if layer == "county":
        return p.county_code in h.counties
    if layer == "prefecture":
        return p.prefecture_code in h.prefectures
    if layer == "province":
        return p.province_code in h.provinces
    return p.prefecture_code in h.phone_prefectures


def _narrow(cands: list[Place], h: _Hints) -> tuple[list[Place], list[str]]:
    """Apply each evidence layer that leaves at least one candidate (a wrong phone must not empty the set)."""
    used = []
    for layer, present in (("county", h.counties), ("prefecture", h.prefectures),
                           ("province", h.provinces), ("phone", h.phone_prefectures)):
        if not present or len(cands) <= 1 and layer != "county":
            continue
        kept = [p for p in cands if _matches(p, h, layer)]
        if kept:
            cands = kept
            used.append(layer)
    return cands, used


def _unique_places(places: list[Place]) -> list[Place]:
    return list(dict.fromkeys(places))


def _hints(g: Gazetteer, *, prefix: list[str], title: str, county_hint: str | None,
           province_hint: str | None, phone_area_codes: list[str] | None, portal: dict | None) -> _Hints:
    h = _Hints()
    for n in prefix:
        _add_admin_name(g, h, n, "name")
    if title:
        for n in _split_prefix(g, normalize_name(title))[0]:
            _add_admin_name(g, h, n, "title")
    for hint, why in ((county_hint, "county_hint"), (province_hint, "province_hint")):
        n = normalize_name(hint)
        for part in _split_prefix(g, n)[0] or ([n] if n else []):
            if part in g.counties or part in g.prefectures or part in g.provinces:
                _add_admin_name(g, h, part, why)
    if portal:
        for key, codes in (("county_code", h.counties), ("prefecture_code", h.prefectures),
                           ("province_code", h.provinces)):
            if portal.get(key):
                codes.add(str(portal[key]))
                h.why.append(f"portal:{key}={portal[key]}")
        for key in ("county", "prefecture", "province"):
            if portal.get(key) and not portal.get(f"{key}_code"):
                _add_admin_name(g, h, normalize_name(portal[key]), "portal")
    for code in phone_area_codes or []:
        code = code if code.startswith("0") else "0" + code
        pc = g.area_codes.get(code)
        if not pc:
            continue
        for name, places in g.prefectures.items():
            for p in places:
                if pc[1] in g.pref_alias.get(p.prefecture_code or "", []) or name.startswith(pc[1]):
                    if g.prov_alias.get(p.province_code) == pc[0]:
                        h.phone_prefectures.add(p.prefecture_code or "")
        h.why.append(f"phone:{code}")
    return h


def _scope(portal: dict | None, source: str | None) -> str:
    if portal and _pid(portal):
        return str(_pid(portal))
    if source:
        host = urlsplit(source).netloc
        return host or Path(source).parent.name or source
    return ""


def _pid(portal: dict) -> str | None:
    return portal.get("portal_id") or portal.get("id")


def _from_place(p: Place, name: str, level: str, resolution: str, n: int, why: list[str]) -> Unit:
    if level == "township":
        key = f"{p.county_code}/{town_base(name)}"
    else:
        key = {"county": p.county_code, "prefecture": p.prefecture_code}.get(level) or p.province_code
    return Unit(key, name, level, p.province, p.province_code, p.prefecture, p.prefecture_code,
                p.county if level in ("county", "township") else None,
                p.county_code if level in ("county", "township") else None,
                name if level == "township" else None, None, resolution, n, ";".join(why))


def _strip_portal_prefix(name: str, portal: dict) -> str:
    for key in ("province", "prefecture", "county"):
        admin = normalize_name(portal.get(key))
        if admin and name.startswith(admin) and _TOWN_SUFFIX.match(name[len(admin):]):
            name = name[len(admin):]
    return name


def resolve_unit(unit: str | None, *, title: str | None = None, county_hint: str | None = None,
                 province_hint: str | None = None, phone_area_codes: list[str] | None = None,
                 portal: dict | None = None, source: str | None = None) -> Unit:
    """Resolve one unit name with its evidence. `portal` is a plain registry row (dict)."""
    g = gazetteer()
    name = normalize_name(unit) or normalize_name((portal or {}).get("unit_name") or (portal or {}).get("unit"))
    prefix, rest = _split_prefix(g, name)
    if portal and not prefix:
        # admin names the gazetteer does not know (a new county, the demo's): the portal row's own
        # names, printed before the township, are its prefix all the same (云溪县东坪镇 = 东坪镇)
        rest = _strip_portal_prefix(rest, portal)
    h = _hints(g, prefix=prefix, title=normalize_name(title), county_hint=county_hint,
               province_hint=province_hint, phone_area_codes=phone_area_codes, portal=portal)

    # a township portal row that names this township is authoritative (codes included)
    if portal and (portal.get("level") == "township") and portal.get("county_code"):
        pt = normalize_name(portal.get("township") or portal.get("unit_name") or portal.get("unit"))
        if pt and (not rest or town_base(rest) == town_base(pt)):
            return Unit(f"{portal['county_code']}/{town_base(pt)}", rest or pt, "township",
                        portal.get("province"), _s(portal.get("province_code")), portal.get("prefecture"),
                        _s(portal.get("prefecture_code")), portal.get("county"), _s(portal.get("county_code")),
                        pt, _s(portal.get("township_code")), "portal", 1, f"portal:{_pid(portal)}")

    # a county (or township) portal publishes the reports of its own townships: its county wins over a
    # namesake elsewhere in the gazetteer, unless the report itself names another county
    pc = (portal or {}).get("county")
    if (rest and _TOWN_SUFFIX.match(rest) and pc and (portal or {}).get("level") in ("county", "township")
            and (not prefix or prefix[-1] == pc)):
        return Unit(f"{_s(portal.get('county_code')) or pc}/{town_base(rest)}", rest, "township",
                    portal.get("province"), _s(portal.get("province_code")), portal.get("prefecture"),
                    _s(portal.get("prefecture_code")), pc, _s(portal.get("county_code")), rest, None,
                    "portal_county", 1, f"portal:{_pid(portal)}")

    if pc and name == pc and (portal or {}).get("level") == "county" and pc not in g.counties:
        # the county's own report, on a county portal the gazetteer does not know (new or renamed county)
        return Unit(_s(portal.get("county_code")) or pc, pc, "county", portal.get("province"),
                    _s(portal.get("province_code")), portal.get("prefecture"), _s(portal.get("prefecture_code")),
                    pc, _s(portal.get("county_code")), None, None, "portal_county", 1, f"portal:{_pid(portal)}")

    if rest and _TOWN_SUFFIX.match(rest):
        cands = _unique_places(g.towns_exact.get(rest, []))
        narrowed, used = _narrow(cands, h)
        if not narrowed or (h.counties and "county" not in used):
            # exact name unknown under the named county: try 乡<->镇 renames
            narrowed, used = _narrow(_unique_places(g.towns_base.get(town_base(rest), [])), h)
        if h.counties and "county" not in used:
            narrowed = []  # the named county has no such township in the gazetteer
        if len(narrowed) == 1:
            how = "gazetteer" if not used else ("title" if "county" in used else "hints")
            return _from_place(narrowed[0], rest, "township", how, 1, h.why + used)
        counties = _unique_places([c for code in h.counties for cs in g.counties.values() for c in cs
                                   if c.county_code == code])
        if not narrowed and len(counties) == 1:
            return _from_place(counties[0], rest, "township", "county_only", 0, h.why)
        return Unit(f"?/{rest}@{_scope(portal, source)}", rest, "township", resolution="unresolved",
                    candidates=len(narrowed), evidence=";".join(h.why))

    if prefix and not rest:  # the unit is itself an admin area: county, prefecture or province
        last = prefix[-1]
        for level, table in (("county", g.counties), ("prefecture", g.prefectures)):
            if last in table:
                cands, used = _narrow(_unique_places(table[last]), h)
                if len(cands) == 1:
                    return _from_place(cands[0], last, level, "gazetteer", len(table[last]), h.why + used)
        if last in g.provinces:
            return _from_place(g.provinces[last], last, "province", "gazetteer", 1, h.why)

    if prefix and rest:  # a department of the named admin area (上海市人民政府办公厅)
        for n in reversed(prefix):
            for table, level in ((g.counties, "county"), (g.prefectures, "prefecture")):
                cands, _ = _narrow(_unique_places(table.get(n, [])), h)
                if len(cands) == 1:
                    u = _from_place(cands[0], n, level, "title", 1, h.why)
                    u.unit_key, u.unit_name, u.level = f"{u.unit_key}/{rest}", name, "department"
                    return u
            if n in g.provinces:
                u = _from_place(g.provinces[n], n, "province", "title", 1, h.why)
                u.unit_key, u.unit_name, u.level = f"{u.unit_key}/{rest}", name, "department"
                return u
    level = "department" if _DEPT_HINT.search(name or "") else "unknown"
    return Unit(f"?/{name or '(unnamed)'}@{_scope(portal, source)}", name or "(unnamed)", level,
                resolution="unresolved", candidates=None, evidence=";".join(h.why))


def _s(v: object) -> str | None:
    return None if v in (None, "") else str(v)


def resolve_portal(portal: dict) -> Unit:
    """The unit a registry row publishes for."""
    return resolve_unit(portal.get("unit_name") or portal.get("unit") or portal.get("township")
                        or portal.get("county"), portal=portal)
