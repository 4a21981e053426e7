from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import NotFound
from yidi.kernel.regions import (
    Division,
    DivisionLevel,
    DivisionRegistry,
    annex3_henan_rows,
    annex3_rows,
    annex4_province_rows,
    default_registry,
    hengyang_county_codes,
    region_prefix,
)

registry = default_registry()
all_divisions = registry.all()
any_division = st.sampled_from(all_divisions)
counties = st.sampled_from([d for d in all_divisions if d.level is DivisionLevel.COUNTY])


def test_hengyang_county_sits_under_hengyang_city_under_hunan() -> None:
    county = registry.get("430421")
    assert county.name == "衡阳县"
    assert county.level is DivisionLevel.COUNTY
    assert county.full_name == "湖南省衡阳市衡阳县"
    assert registry.parent("430421") == registry.get("430400")
    assert registry.get("430400").name == "衡阳市"
    assert registry.province_of("430421").name == "湖南省"
    assert registry.prefecture_of("430421") == registry.get("430400")
    assert registry.is_within("430421", "430000")
    assert registry.is_within("430421", "430421")
    assert not registry.is_within("430421", "410000")


def test_known_divisions_resolve_by_code() -> None:
    assert registry.get("410181").name == "巩义市"
    assert registry.get("640000").name == "宁夏回族自治区"
    bobai = registry.get("450923")
    assert bobai.name == "博白县"
    assert bobai.full_name == "广西壮族自治区玉林市博白县"


def test_municipal_districts_hang_directly_under_the_municipality() -> None:
    district = registry.get("110105")
    assert district.full_name == "北京市朝阳区"
    assert registry.prefecture_of("110105") is None
    assert registry.province_of("110105").code == "110000"


def test_province_administered_county_has_the_province_as_parent() -> None:
    jiyuan = registry.get("419001")
    assert jiyuan.name == "济源市"
    assert jiyuan.parent_code == "410000"
    assert registry.prefecture_of("419001") is None


def test_unknown_code_raises_not_found_with_a_chinese_message() -> None:
    with pytest.raises(NotFound) as caught:
        registry.get("439876")
    assert caught.value.code == "DIVISION_UNKNOWN"
    assert "439876" in caught.value.message
    assert not registry.exists("439876")


def test_pool_code_ending_in_99_resolves_to_the_prefectures_own_pool() -> None:
    pool = registry.get("430499")
    assert pool.name == "衡阳市本级"
    assert pool.parent_code == "430400"
    assert pool.full_name == "湖南省衡阳市本级"
    assert registry.exists("430499")
    assert registry.prefecture_of("430499") == registry.get("430400")
    assert registry.get("439900").name == "湖南省本级"
    assert not registry.exists("439999")  # 4399 is no prefecture


def test_retired_2017_name_changyuan_county_is_kept_beside_the_new_city() -> None:
    old = registry.get("410728")
    assert old.name == "长垣县"
    assert not old.is_current
    assert registry.get("410783").name == "长垣市"
    current_children = {d.code for d in registry.children("410700")}
    assert "410783" in current_children
    assert "410728" not in current_children
    assert "410728" in {d.code for d in registry.children("410700", include_retired=True)}


def test_find_by_name_can_be_narrowed_to_a_region() -> None:
    chaoyang = registry.find_by_name("朝阳区")
    assert {d.code for d in chaoyang} >= {"110105", "220104"}
    assert [d.code for d in registry.find_by_name("朝阳区", within="110000")] == ["110105"]
    assert [d.code for d in registry.find_by_name("湖南省衡阳市衡阳县")] == ["430421"]
    assert registry.find_by_name("高新区", within="430400") == []


def test_counts_cover_every_province_and_about_3200_divisions() -> None:
    levels = Counter(d.level for d in registry.all(include_retired=False))
    provinces = [d for d in all_divisions if d.level is DivisionLevel.PROVINCE]
    assert len(provinces) == 34  # 31 mainland + 台湾省, 香港, 澳门
    assert {"710000", "810000", "820000"} <= {d.code for d in provinces}
    assert levels[DivisionLevel.PREFECTURE] >= 330
    assert 2800 <= levels[DivisionLevel.COUNTY] <= 2900
    assert len(registry) == sum(levels.values()) + 1  # one retired code (长垣县)


def test_annex4_lists_the_31_mainland_provinces_in_code_order() -> None:
    rows = annex4_province_rows()
    assert len(rows) == 31
    assert [d.name for d in rows[:5]] == ["北京市", "天津市", "河北省", "山西省", "内蒙古自治区"]
    assert rows[-1].name == "新疆维吾尔自治区"
    assert [d.code for d in rows] == sorted(d.code for d in rows)


def test_annex3_lists_17_henan_cities_then_the_10_direct_counties() -> None:
    rows = annex3_henan_rows()
    assert len(rows) == 27
    assert rows[0].code == "410100"
    assert rows[16].name == "驻马店市"
    assert all(d.level is DivisionLevel.PREFECTURE for d in rows[:17])
    assert [d.name for d in rows[17:]] == [
        "巩义市", "兰考县", "汝州市", "滑县", "长垣县", "邓州市", "永城市", "固始县", "鹿邑县", "新蔡县",
    ]  # fmt: skip
    assert rows[21].code == "410728"
    with_jiyuan = annex3_henan_rows(include_jiyuan=True)
    assert len(with_jiyuan) == 28
    assert with_jiyuan[17].name == "济源市"


def test_annex4_leaves_out_the_filling_regions_own_province() -> None:
    hunan = annex4_province_rows(excluding="430400")
    assert len(hunan) == 30
    assert "湖南省" not in {d.name for d in hunan}
    assert "河南省" in {d.name for d in hunan}
    assert "河南省" not in {d.name for d in annex4_province_rows(excluding="410000")}


def test_annex3_rows_are_the_pools_of_the_filling_regions_own_province() -> None:
    hunan = annex3_rows("430400")
    assert [d.name for d in hunan][:3] == ["长沙市", "株洲市", "湘潭市"]
    assert len(hunan) == 14  # 13 cities and 湘西土家族苗族自治州
    assert all(d.code.startswith("43") for d in hunan)
    hubei = [d.name for d in annex3_rows("420100")]
    assert hubei[-4:] == ["仙桃市", "潜江市", "天门市", "神农架林区"]  # run by the province
    assert annex3_rows("410100", include_jiyuan=True) == annex3_henan_rows(include_jiyuan=True)
    assert annex3_rows("110101") == []  # a municipality is one pool


def test_hengyang_codes_are_the_city_and_its_twelve_counties_and_districts() -> None:
    codes = hengyang_county_codes()
    assert codes[0] == "430400"
    assert len(codes) == 13
    assert set(codes[1:]) == {d.code for d in registry.children("430400")}
    assert registry.get(codes[1]).name == "衡阳县"


def test_registry_refuses_an_orphan_division() -> None:
    with pytest.raises(ValueError):
        DivisionRegistry([Division("430421", "衡阳县", DivisionLevel.COUNTY, "430400")])


def test_default_registry_is_loaded_once() -> None:
    assert default_registry() is default_registry()


@given(any_division)
def test_every_code_is_six_digits(division: Division) -> None:
    assert len(division.code) == 6
    assert division.code.isdigit()


@given(counties)
def test_every_county_has_a_parent_sharing_its_prefix(county: Division) -> None:
    parent = registry.parent(county.code)
    assert parent is not None
    assert parent.level in (DivisionLevel.PREFECTURE, DivisionLevel.PROVINCE)
    prefix = 4 if parent.level is DivisionLevel.PREFECTURE else 2
    assert county.code[:prefix] == parent.code[:prefix]
    assert county.full_name.startswith(parent.full_name)


def test_names_are_unique_within_every_parent() -> None:
    # Checked over the whole list rather than sampled: it is small enough.
    for division in all_divisions:
        names = [d.name for d in registry.children(division.code)]
        assert len(names) == len(set(names)), division.code


@given(any_division)
def test_province_of_is_an_ancestor_and_a_province(division: Division) -> None:
    province = registry.province_of(division.code)
    assert province.level is DivisionLevel.PROVINCE
    assert province.code[:2] == division.code[:2]
    assert registry.is_within(division.code, province.code)


def test_pool_codes_are_recognised_as_pools_and_real_codes_are_not() -> None:
    assert registry.is_pool("430499")
    assert not registry.is_pool("430421")
    assert not registry.is_pool("439876")


@pytest.mark.parametrize(
    ("code", "prefix", "inside", "outside"),
    [
        ("430000", "43", "430421", "450923"),
        ("430400", "4304", "430421", "430521"),
        ("430421", "430421", "430421", "430422"),
        ("431000", "4310", "431021", "430421"),
        ("000000", "", "450923", None),
    ],
)
def test_region_prefix_is_what_a_principal_of_that_region_covers(
    code: str, prefix: str, inside: str, outside: str | None
) -> None:
    assert region_prefix(code) == prefix
    principal = Principal("u", Role.AGENCY_HANDLER, region_code=code)
    assert principal.covers_region(inside)
    if outside is not None:
        assert not principal.covers_region(outside)
