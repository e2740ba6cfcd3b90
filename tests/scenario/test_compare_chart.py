"""The comparison chart speaks the chosen language and shows Chinese names as characters."""

from __future__ import annotations

import json
import warnings

import pytest

from geoplan import labels
from geoplan.scenario.compare import compare_runs, write_comparison


def _run(folder, share_after):
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({
        "scenario": "十五分钟医保服务圈",
        "coverage": [{"name": "现状覆盖", "modes": {"walk": {"share_15min": 0.23}}}],
        "models": [{"name": "最少站点", "share_before": 0.58, "share_after": share_after,
                    "new_sites": 40, "objective": 40, "gap": 0.0, "status": "optimal"}]},
        ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize("fonts", ["system", "none"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_words_are_the_catalogues_and_chinese_is_text(tmp_path, monkeypatch, lang,
                                                             fonts):
    """With or without a CJK font on the machine: no glyph warning, names kept as text."""
    if fonts == "none":
        monkeypatch.setattr("geoplan.maps.charts.cjk_fonts", lambda: ())
    runs = [_run(tmp_path / "方案甲", 0.95), _run(tmp_path / "方案乙", 0.90)]
    table = compare_runs(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # "Glyph ... missing" would fail here
        files = write_comparison(table, tmp_path / "cmp", lang=lang)
    svg = files["chart"].read_text(encoding="utf-8")
    for key in ("report.chart_before", "report.chart_after", "report.y_share"):
        assert labels.text(key, lang) in svg
    # names are text the browser draws, not glyph outlines (which lose CJK characters)
    assert "方案甲: 最少站点" in svg and "方案乙: 现状覆盖" in svg
    assert labels.mode("walk", lang) in svg


def test_cli_compare_lang_reaches_the_chart(tmp_path):
    from geoplan.cli.main import main

    runs = [_run(tmp_path / "a", 0.95), _run(tmp_path / "b", 0.90)]
    for lang in ("zh", "en"):
        assert main(["compare", *map(str, runs), "--lang", lang, "--out",
                     str(tmp_path / lang)]) == 0
        svg = (tmp_path / lang / "comparison.svg").read_text(encoding="utf-8")
        assert labels.text("report.chart_after", lang) in svg
