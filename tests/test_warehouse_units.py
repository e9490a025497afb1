"""Unit resolution on the spec's seed cases (§10.4) plus portal rows and unresolvable names."""

from __future__ import annotations

from sql.units import normalize_name, resolve_portal, resolve_unit, town_base


def test_seed_units() -> None:
    s0 = resolve_unit("卫辉市上乐村镇")
    assert (s0.county, s0.county_code, s0.level, s0.resolution) == ("卫辉市", "410781", "township", "title")
    s1 = resolve_unit("苏店镇人民政府")
    assert (s1.county, s1.county_code, s1.prefecture) == ("上党区", "140404", "长治市")
    s2 = resolve_unit("城关镇人民政府", source="http://a.gov.cn/x.html")
    assert (s2.resolution, s2.candidates, s2.county) == ("unresolved", 99, None)
    assert s2.unit_key == "?/城关镇@a.gov.cn"
    # the gazetteer lists 恰尔巴格乡 under 洛浦县 (撤乡设镇) and another 恰尔巴格镇 under 叶城县
    s3 = resolve_unit("洛浦县恰尔巴格镇人民政府")
    assert (s3.county, s3.county_code, s3.unit_name) == ("洛浦县", "653224", "恰尔巴格镇")
    s4 = resolve_unit("安乐镇", province_hint="河南省", phone_area_codes=["0379"])
    assert (s4.county, s4.county_code, s4.prefecture) == ("洛龙区", "410311", "洛阳市")
    assert resolve_unit("安乐镇", phone_area_codes=["0379"]).county_code == "410311"
    bare = resolve_unit("安乐镇")
    assert (bare.resolution, bare.candidates) == ("unresolved", 3)


def test_title_and_county_hint_place_a_bare_township() -> None:
    u = resolve_unit("唐庄镇", title="卫辉市唐庄镇2023年政府信息公开工作年度报告")
    assert u.unit_key == "410781/唐庄"


def test_portal_admin_names_unknown_to_the_gazetteer_are_a_prefix_too() -> None:
    """A township printed with its county (云溪县东坪镇) and without it (东坪镇) is one unit, shown by its
    own name, also where the gazetteer does not know the county (a new county, the demo's)."""
    county = {"id": "yunxi", "level": "county", "province": "演示省", "prefecture": "演示市", "county": "云溪县"}
    a, b = resolve_unit("云溪县东坪镇", portal=county), resolve_unit("东坪镇", portal=county)
    assert (a.unit_key, a.unit_name, a.county) == (b.unit_key, b.unit_name, b.county) == ("云溪县/东坪", "东坪镇", "云溪县")
    c = resolve_unit("演示市云溪县东坪镇", portal=county)
    assert c.unit_key == a.unit_key
    town = {**county, "id": "liujiang", "level": "township", "county_code": "999001", "township": "柳江镇"}
    assert resolve_unit("云溪县柳江镇", portal=town).unit_key == resolve_unit("柳江镇", portal=town).unit_key
    own = resolve_unit("云溪县", portal=county)  # the county's own report keeps its name
    assert (own.unit_name, own.level) == ("云溪县", "county")
    assert resolve_unit("唐庄镇", county_hint="卫辉市").unit_key == "410781/唐庄"


def test_county_known_but_township_not_in_gazetteer() -> None:
    u = resolve_unit("卫辉市新设镇")
    assert (u.resolution, u.county_code, u.unit_key) == ("county_only", "410781", "410781/新设")


def test_admin_levels_and_departments() -> None:
    assert resolve_unit("洛浦县").level == "county"
    assert resolve_unit("新乡市").level == "prefecture"
    assert resolve_unit("河南省").unit_key == "410000"
    d = resolve_unit("威海市文登区住房和城乡建设局")
    assert (d.level, d.county_code, d.unit_key) == ("department", "371003", "371003/住房和城乡建设局")
    assert resolve_unit(None).resolution == "unresolved"


def test_portal_rows() -> None:
    p = {"id": "p1", "unit_name": "城关镇人民政府", "level": "township", "county": "卫辉市", "county_code": "410781",
         "township": "城关镇", "township_code": "410781100"}
    u = resolve_portal(p)
    assert (u.resolution, u.unit_key, u.township_code) == ("portal", "410781/城关", "410781100")
    # a county portal hosting township reports gives the county
    u = resolve_unit("唐庄镇", portal={"id": "weihui", "level": "county", "county": "卫辉市", "county_code": "410781"})
    assert u.unit_key == "410781/唐庄"


def test_name_helpers() -> None:
    assert normalize_name(" # 城关镇 人民政府") == "城关镇"
    assert town_base("恰尔巴格乡") == town_base("恰尔巴格镇") == "恰尔巴格"
