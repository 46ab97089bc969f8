"""Charts in Chinese render real glyphs (no tofu boxes) with the CJK fallback font."""

import warnings

import matplotlib.pyplot as plt
import pytest

from analysis import plots

LABELS = ["高价值客户", "流失风险", "新客户"]


def _missing_glyph_warnings(family=None):
    fig, ax = plt.subplots()
    ax.bar(LABELS, [3, 2, 1])
    ax.set_title("客户细分与满意度")
    if family:
        for text in (ax.title, *ax.get_xticklabels()):
            text.set_family(family)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_chinese_labels_have_glyphs():
    plots.set_theme("zh")
    if plots.cjk_font() is None:
        pytest.skip("no CJK font installed (make setup installs fonts-noto-cjk as root)")
    assert _missing_glyph_warnings() == []


def test_the_check_would_catch_tofu():
    plots.set_theme("zh")
    # DejaVu Sans alone has no CJK glyphs: matplotlib must warn, or the test above proves nothing
    assert _missing_glyph_warnings(family=["DejaVu Sans"])


def test_figures_are_drawn_once_and_shown_as_png(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title that tight_layout must fit")
    draws = []
    original = fig.draw
    monkeypatch.setattr(fig, "draw", lambda renderer: (draws.append(1), original(renderer)))
    plots.show_figure(fig)
    assert len(draws) == 1
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "What the risk model relies on when it ranks customers"),
        ("zh", "风险模型在给客户排序时最依赖的属性与指标"),
    ],
)
def test_long_panel_titles_are_wrapped_to_stay_over_their_panel(language, title):
    plots.set_theme(language)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    axes[2].set_title(title)
    axes[0].set_title("Gains")
    plots.fit_titles(fig)
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = axes[2].title.get_window_extent(renderer)
    panel = axes[2].get_window_extent(renderer)
    assert "\n" in axes[2].title.get_text() and axes[0].title.get_text() == "Gains"
    assert axes[2].title.get_text().replace("\n", " ").replace(" ", "") == title.replace(" ", "")
    assert box.x1 <= fig.bbox.x1 and box.width <= panel.width * 1.15
    plt.close(fig)


def test_bars_start_at_zero_and_lines_keep_their_range():
    fig, (bars, hbars, line) = plt.subplots(1, 3)
    bars.bar(["a", "b"], [1_500_000, 1_600_000])
    bars.set_ylim(1_450_000, 1_650_000)  # a cut axis exaggerates the difference
    hbars.barh(["a", "b"], [-5, -3])
    hbars.set_xlim(-6, -2)
    line.plot([1, 2], [10, 11])
    line.set_ylim(9.5, 11.5)
    plots.bars_from_zero(fig)
    assert bars.get_ylim() == (0.0, 1_650_000)
    assert hbars.get_xlim() == (-6, 0.0)  # negative bars: zero at the other end
    assert line.get_ylim() == (9.5, 11.5)  # not a bar chart
    plt.close(fig)


def test_legends_inside_the_plot_move_outside_it():
    fig, (inside, placed) = plt.subplots(1, 2, figsize=(8, 3))
    for ax in (inside, placed):
        ax.plot([0, 1], [0, 1], label="first")
        ax.plot([0, 1], [1, 0], label="second")
    inside.legend(title="Segment", loc="center")
    placed.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2))  # placed on purpose
    plots.legends_outside(fig)
    fig.canvas.draw()
    box = inside.get_legend().get_window_extent()
    assert box.x0 >= inside.get_window_extent().x1  # right of the plot area
    assert [t.get_text() for t in inside.get_legend().get_texts()] == ["first", "second"]
    assert inside.get_legend().get_title().get_text() == "Segment"
    assert placed.get_legend().get_window_extent().y1 <= placed.get_window_extent().y0 + 1
    plt.close(fig)


def test_a_legend_under_the_axes_clears_the_tick_labels():
    fig, ax = plt.subplots(figsize=(8, 2))
    ax.barh([0, 1], [0.4, 0.6], label="share")
    ax.set_xlabel("Share of customers")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2)  # onto the ticks
    renderer = fig.canvas.get_renderer()

    def overlap():
        legend, axis = ax.get_legend().get_window_extent(renderer), ax.xaxis.get_tightbbox(renderer)
        return legend.y1 > axis.y0 and legend.y0 < axis.y1

    assert overlap()  # the check can fail
    plots.legends_outside(fig)
    fig.tight_layout()
    fig.canvas.draw()
    assert not overlap()
    plt.close(fig)
