"""The carriers list, tracking-number normalisation and the bulk-ship CSV reader."""
from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.orders import carriers, shipping_csv
from app.orders.shipping_csv import MAX_ROWS, RowError, ShipRow, parse, template_csv

# --- carriers ----------------------------------------------------------------------------


def test_carriers_are_kuaidi100_codes_with_names():
    codes = [c.code for c in carriers.CARRIERS]
    assert codes[:2] == ["shunfeng", "zhongtong"]
    assert set(codes) == {"shunfeng", "zhongtong", "yuantong", "shentong", "yunda", "jd", "youzhengguonei",
                          "ems", "jtexpress", "debangkuaidi", "huitongkuaidi"}
    assert len(set(codes)) == len(codes)
    assert carriers.get("huitongkuaidi").name == "百世快递"
    assert carriers.get("nope") is None
    assert carriers.get(None) is None


def test_choices_and_names():
    assert carriers.choices()[0] == ("shunfeng", "顺丰速运")
    assert len(carriers.choices()) == len(carriers.CARRIERS)
    assert carriers.name_for("jtexpress") == "极兔速递"
    # A code dropped from the list still shows on old shipments.
    assert carriers.name_for("tiantian") == "tiantian"
    assert carriers.name_for(None) == ""


@pytest.mark.parametrize(("text", "code"), [
    ("shunfeng", "shunfeng"), ("ShunFeng", "shunfeng"), ("顺丰速运", "shunfeng"), (" 顺丰 ", "shunfeng"),
    ("sf", "shunfeng"), ("中通快递", "zhongtong"), ("EMS", "ems"), ("百世汇通", "huitongkuaidi"),
])
def test_find_by_code_name_or_alias(text, code):
    assert carriers.find(text).code == code


@pytest.mark.parametrize("text", ["", None, "顺风", "天天快递"])
def test_find_unknown(text):
    assert carriers.find(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("  sf1234567890123 ", "SF1234567890123"),
    ("75301228490211", "75301228490211"),
    ("JT-0001234", "JT-0001234"),
    ("A" * 32, "A" * 32),
    ("123456", "123456"),
])
def test_normalise_tracking_no(text, expected):
    assert carriers.normalise_tracking_no(text) == expected


@pytest.mark.parametrize("text", ["", None, "12345", "A" * 33, "SF 123456789", "SF123/456", "运单123456", "7.53012E+13"])
def test_normalise_tracking_no_refuses(text):
    with pytest.raises(ValidationError) as caught:
        carriers.normalise_tracking_no(text)

    assert caught.value.status == 422
    assert caught.value.fields == {"tracking_no": "运单号应为 6-32 位字母、数字或短横线"}


# --- CSV ---------------------------------------------------------------------------------

def sheet(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding) + b"\r\n"


def test_utf8_with_bom_and_chinese_header():
    data = sheet("订单号,快递公司,运单号", "202611301000001,顺丰速运,sf1234567890123",
                 "202611301000002,zhongtong,75301228490211", encoding="utf-8-sig")

    parsed = parse(data)

    assert parsed.errors == []
    assert parsed.rows == [
        ShipRow(2, "202611301000001", "shunfeng", "SF1234567890123"),
        ShipRow(3, "202611301000002", "zhongtong", "75301228490211"),
    ]


def test_utf8_without_bom_and_english_header_in_another_order():
    data = sheet("tracking_no,Order_No,carrier,note", "YT7530122849021,202611301000003,yuantong,易碎")

    parsed = parse(data)

    assert parsed.errors == []
    assert parsed.rows == [ShipRow(2, "202611301000003", "yuantong", "YT7530122849021")]


def test_gbk_as_excel_saves_it():
    data = sheet("订单号,快递公司,运单号", "202611301000004,韵达快递,4312345678901",
                 "202611301000005,极兔,JT0001234567890", encoding="gbk")

    parsed = parse(data)

    assert parsed.errors == []
    assert [(r.carrier_code, r.tracking_no) for r in parsed.rows] == [
        ("yunda", "4312345678901"), ("jtexpress", "JT0001234567890")]


def test_blank_lines_are_skipped_and_lines_keep_their_numbers():
    data = sheet("", "订单号,快递公司,运单号", "", ",,", "202611301000006,德邦,DPK1234567890", "  ")

    parsed = parse(data)

    assert parsed.errors == []
    assert parsed.rows == [ShipRow(5, "202611301000006", "debangkuaidi", "DPK1234567890")]


def test_bad_rows_are_reported_with_their_line_and_good_rows_kept():
    data = sheet(
        "订单号,快递公司,运单号",
        "202611301000007,顺丰速运,SF1234567890123",
        "202611301000008,顺风快递,SF1234567890124",
        "202611301000009,中通快递,123",
        ",中通快递,75301228490299",
        "2.02611E+14,中通快递,75301228490298",
        "202611301000010,中通快递",
    )

    parsed = parse(data)

    assert [r.order_no for r in parsed.rows] == ["202611301000007"]
    assert parsed.errors == [
        RowError(3, "不支持的快递公司：顺风快递"),
        RowError(4, "运单号应为 6-32 位字母、数字或短横线"),
        RowError(5, "订单号不能为空"),
        RowError(6, "订单号被 Excel 显示成了科学计数法，请把该列设为文本后重新导出"),
        RowError(7, "运单号不能为空"),
    ]


def test_several_problems_in_one_row_are_all_reported():
    parsed = parse(sheet("订单号,快递公司,运单号", "202611301000011,,7.53012E+13"))

    assert parsed.rows == []
    assert [e.message for e in parsed.errors] == [
        "快递公司不能为空", "运单号被 Excel 显示成了科学计数法，请把该列设为文本后重新导出"]
    assert {e.line for e in parsed.errors} == {2}


def test_duplicate_order_number_is_an_error_on_the_later_line():
    data = sheet("订单号,快递公司,运单号", "202611301000012,顺丰,SF1234567890123",
                 "202611301000013,圆通,YT7530122849021", "202611301000012,中通,75301228490211")

    parsed = parse(data)

    assert [(r.line, r.order_no, r.carrier_code) for r in parsed.rows] == [
        (2, "202611301000012", "shunfeng"), (3, "202611301000013", "yuantong")]
    assert parsed.errors == [RowError(4, "订单号 202611301000012 与第 2 行重复")]


def test_at_most_max_rows():
    header = "订单号,快递公司,运单号"
    rows = [f"2026113010{n:05d},中通快递,7530122849{n:04d}" for n in range(MAX_ROWS)]

    assert len(parse(sheet(header, *rows)).rows) == MAX_ROWS
    with pytest.raises(ValidationError) as caught:
        parse(sheet(header, *rows, "202611309999999,中通快递,75301228499999"))
    assert caught.value.fields == {"file": "一次最多发货 500 个订单，请分成多个文件上传"}


@pytest.mark.parametrize(("data", "message"), [
    (b"", "文件是空的，请按模板填写后上传"),
    (b"\r\n \r\n", "文件是空的，请按模板填写后上传"),
    (sheet("订单号,运单号", "202611301000001,SF1234567890123"), "表头应包含：订单号、快递公司、运单号"),
    (sheet("202611301000001,顺丰,SF1234567890123"), "表头应包含：订单号、快递公司、运单号"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xff", "无法识别文件编码，请另存为 CSV（UTF-8 或 GBK）后重新上传"),
])
def test_whole_file_problems_raise(data, message):
    with pytest.raises(ValidationError) as caught:
        parse(data)

    assert caught.value.code == "invalid_ship_sheet"
    assert caught.value.fields == {"file": message}


def test_template_opens_in_excel_and_round_trips():
    data = template_csv()

    assert data.startswith(b"\xef\xbb\xbf")  # BOM, or Excel reads it as GBK
    assert data.decode("utf-8-sig").splitlines()[0] == "订单号,快递公司,运单号"
    parsed = parse(data)
    assert parsed.errors == []
    assert parsed.rows == [ShipRow(2, *shipping_csv.TEMPLATE_EXAMPLE[:1], "shunfeng", "SF1234567890123")]
