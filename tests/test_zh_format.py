"""Chinese conventions in rendered text: money as 万元 / 万美元 following the currency, and no
space between two CJK characters where a message meets a filled-in value."""

from __future__ import annotations

import html
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, report_context, tiny_tables

from analysis import display as ui
from analysis.data.load import Dataset
from analysis.i18n import CJK_CHARS, catalog, format_cjk, t

# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1_009_000, "¥", "100.9万元"),
        (1_009_000, "$", "100.9万美元"),
        (1_009_000, "USD", "100.9万美元"),
        (1_009_000, "CNY", "100.9万元"),
        (1_009_000, "RMB", "100.9万元"),
        (1_009_000, "€", "100.9万欧元"),
        (100_000, "¥", "10.0万元"),  # 万 from 100,000 (a six-digit amount)
        (99_999, "¥", "99,999元"),  # below: written out
        (12_345_678, "$", "1,234.6万美元"),
        (99_994_999, "¥", "9,999.5万元"),
        (100_000_000, "¥", "1.00亿元"),  # 亿 from 100,000,000
        (3.2e8, "$", "3.20亿美元"),
        (1.5e12, "¥", "15,000.00亿元"),
        (-1_009_000, "¥", "-100.9万元"),  # negatives: the sign before the number
        (-3.2e8, "$", "-3.20亿美元"),
        (-1_500.4, "¥", "-1,500元"),
        (0, "¥", "0元"),
        (12.5, "$", "12美元"),  # small values: whole units
        (0.4, "¥", "0元"),
        (-0.4, "¥", "0元"),  # rounds to zero: no minus sign
        (1_009_000, "人民币", "100.9万元"),
        (1_009_000, "澳门元", "100.9万澳门元"),  # a currency written in Chinese is its word
        (1_009_000, "₫", "₫1,009,000"),  # a symbol without a Chinese word: no 万 after it
    ],
)
def test_chinese_money_follows_the_currency(value, currency, expected):
    assert ui.fmt_money(value, currency, language="zh") == expected


def test_chinese_money_never_puts_a_symbol_before_wan():
    for currency in ("$", "¥", "￥", "€", "£", "HK$", "US$", "₫", "CHF"):
        for value in (1.23e5, -4.56e6, 7.8e9):
            text = ui.fmt_money(value, currency, language="zh")
            assert not re.search(r"[$¥￥€£₫]|CHF", text) or not re.search("[万亿]", text), text
            assert text.replace("-", "")[0].isdigit() or not re.search("[万亿]", text), text


def test_english_money_is_unchanged():
    assert ui.fmt_money(1_009_000, "$") == "$1,009,000"
    assert ui.fmt_money(-1500.4, "¥") == "-¥1,500"
    assert ui.fmt_money(-0.3, "$") == "$0"
    assert ui.fmt_money(float("nan"), "$", language="zh") == "–"
    assert ui.fmt_money(None, "$", language="zh") == "–"


@pytest.mark.parametrize(
    ("value", "currency", "language", "expected"),
    [
        (12_300, "¥", "zh", "1.2万元"),
        (2.341e6, "¥", "zh", "234.1万元"),
        (3.5e8, "$", "zh", "3.5亿美元"),
        (-45_000, "$", "zh", "-4.5万美元"),
        (9_817, "¥", "zh", "9,817元"),
        (12_300, "$", "en", "$12.3k"),
        (-1.2e6, "$", "en", "-$1.2M"),
        (950, "$", "en", "$950"),
    ],
)
def test_short_money_for_chart_labels(value, currency, language, expected):
    assert ui.fmt_money_short(value, currency, language=language) == expected


# --------------------------------------------------------------------------- CJK joins

CJK_GAP = re.compile(f"[{CJK_CHARS}][ \u00a0]+[{CJK_CHARS}]")


def test_no_space_where_a_message_meets_a_chinese_value():
    assert format_cjk("{kpi} 改善最多（{change}）", kpi="新客户", change="+3") == (
        "新客户改善最多（+3）"
    )
    assert format_cjk("{kpi} 改善最多", kpi="NPS") == "NPS 改善最多"  # Latin next to CJK: kept
    assert format_cjk("{value} 的客户价值", value="103.4万元") == "103.4万元的客户价值"
    assert format_cjk("共 {n} 位", n=5) == "共 5 位"  # digits: kept
    assert format_cjk("{a} {b}", a="新客户", b="活跃客户") == "新客户活跃客户"
    assert format_cjk("{x:,.1f} 天", x=3.25) == "3.2 天"
    # spaces inside a value are the data's own
    assert format_cjk("评论：{c} 。", c="质量 很好") == "评论：质量 很好。"
    # the catalogue path does the same
    text = t("report_summary.kpis.better", "zh", kpi="新客户", change="+3")
    assert not CJK_GAP.search(text) and text.startswith("新客户")


def test_english_messages_keep_their_spaces():
    assert t("report_summary.kpis.better", "en", kpi="New customers", change="+3").startswith(
        "New customers "
    )


def test_no_zh_message_has_a_space_between_cjk_characters():
    bad = {k: v for k, v in catalog("zh").items() if CJK_GAP.search(v)}
    assert not bad


def _tiny(unit: str = "north") -> Dataset:
    tables = tiny_tables()
    customers = tables["customers"].astype({"customer_id": "string"})
    customers["signup_date"] = pd.to_datetime(customers["signup_date"])
    orders = tables["orders"].astype({"customer_id": "string", "business_unit": "string"})
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    customers = customers.loc[customers["business_unit"] == unit].reset_index(drop=True)
    orders = orders.loc[orders["business_unit"] == unit].reset_index(drop=True)
    return Dataset(customers=customers, orders=orders)


def _surveys(data: Dataset, rng: np.random.Generator, n: int = 600) -> pd.DataFrame:
    """Survey answers of the data set's customers over 2024-2025 (NPS, CSAT, two ratings)."""
    ids = data.customers["customer_id"].to_numpy()
    days = rng.integers(0, 731, n)
    return pd.DataFrame(
        {
            "response_id": [f"R{i:05d}" for i in range(n)],
            "response_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"),
            "business_unit": "north",
            "customer_id": pd.array(rng.choice(ids, n), dtype="string"),
            "nps": rng.integers(0, 11, n),
            "csat": rng.integers(1, 6, n),
            "rating_delivery": rng.integers(1, 6, n),
            "rating_price": rng.integers(1, 6, n),
        }
    )


def _run_notebook_cells(name: str, ctx, monkeypatch) -> dict:
    """A report notebook's cells after its parameters cell, in-process on ``ctx``."""
    from analysis.report import context as context_module

    monkeypatch.setattr(context_module, "open_report", lambda namespace: ctx)
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    namespace: dict = {}
    for source in [c.source for c in nb.cells if c.cell_type == "code"][1:]:
        exec(compile(source, f"{name}.ipynb", "exec"), namespace)  # noqa: S102
    return namespace


def _text_nodes(markup: list[str]) -> list[str]:
    """The visible text of displayed HTML blocks, one string per text node."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", "\n".join(markup), flags=re.S)
    return [html.unescape(s).strip() for s in re.split(r"<[^>]+>", page) if s.strip()]


def test_rendered_chinese_reports_have_no_space_between_cjk_words(tmp_path, shown, monkeypatch):
    """The value and satisfaction reports (their notebooks' cells, in-process) and the
    summary sections in Chinese, on a small data set, with the eight RFM classes and yuan
    amounts."""
    from analysis.pipelines import summary
    from analysis.plots import set_theme
    from analysis.report.views import summary as summary_views

    set_theme("zh")
    data = _tiny()
    ctx = report_context(tmp_path, data, language="zh", currency="¥")
    namespace = _run_notebook_cells("value", ctx, monkeypatch)
    assert namespace["result"].current.segment_scheme == "rfm8"  # the zh default
    with_surveys = Dataset(
        customers=data.customers,
        orders=data.orders,
        survey_responses=_surveys(data, np.random.default_rng(3)),
    )
    ctx = report_context(tmp_path, with_surveys, language="zh", currency="¥")
    namespace = _run_notebook_cells("satisfaction", ctx, monkeypatch)
    assert namespace["result"] is not None
    ctx = report_context(tmp_path, data, language="zh", currency="¥")
    result = summary.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    for section in ("kpi_section", "alerts_section", "segments_section", "sources_section"):
        getattr(summary_views, section)(ctx, result)
    ctx.finish()
    nodes = _text_nodes(shown)
    text = "\n".join(nodes)
    assert "重要价值客户" in text and "RFM 八大类" in text and "推荐者" in text
    assert re.search(r"\d万元|\d元", text) and not re.search(r"¥[\d.,]+[万亿]", text)
    gaps = sorted({m.group(0) for node in nodes for m in CJK_GAP.finditer(node)})
    assert not gaps, gaps


def test_early_warning_reasons_write_money_the_language_way():
    from analysis.churn.warning import reason_text

    values = np.array([1329.4, 907.0])
    zh = reason_text("avg_order_value", "high", values, "zh", "¥", typical=64.0)
    assert zh[0].startswith("订单金额较高（每单 1,329元）") and "64元" in zh[0]
    assert "¥" not in "".join(zh)
    usd = reason_text("avg_order_value", "low", np.array([250_000.0]), "zh", "$")
    assert "25.0万美元" in usd[0]
    en = reason_text("avg_order_value", "high", values, "en", "$", typical=64.0)
    assert "$1,329" in en[0] and "$64" in en[0]


def test_chinese_revenue_axis_reads_wan_yuan():
    import matplotlib.pyplot as plt

    from analysis.plots import set_theme
    from analysis.report.views.overview import plot_revenue_trend

    set_theme("zh")  # as a Chinese report does: a CJK font
    trend = pd.DataFrame(
        {
            "month": pd.date_range("2025-01-01", periods=6, freq="MS"),
            "revenue": [1.5e6, 1.6e6, 1.55e6, 1.7e6, 1.65e6, 1.8e6],
        }
    )
    fig, ax = plt.subplots()
    plot_revenue_trend(trend, language="zh", currency="¥", ax=ax)
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    # the axis starts at zero (bars and totals from zero): that tick reads 0元, the rest 万元
    assert ticks[0] == "0元", ticks
    assert len(ticks) > 2 and all(re.fullmatch(r"[\d.,]+万元", t) for t in ticks[1:]), ticks
    fig, ax = plt.subplots()
    plot_revenue_trend(trend, language="en", currency="$", ax=ax)
    fig.canvas.draw()
    assert all(t.get_text().startswith("$") for t in ax.get_yticklabels() if t.get_text())
