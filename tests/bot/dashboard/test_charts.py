"""The chart scripts the dashboard serves itself, and the figures it hands them."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from fastapi.testclient import TestClient

from bot.app.server import create_app
from bot.dashboard import charts
from bot.ledger.figures import Hotspot, WeekPoint
from tests.fakes.github import FakeGitHub


def test_plotly_comes_from_this_server_compressed_and_cached(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    settings = fake_github.settings(tmp_path, database_url=f"sqlite:///{tmp_path}/s.sqlite3")
    with TestClient(create_app(settings, run_worker=False)) as client:
        version = metadata.version("plotly")
        answer = client.get(
            f"/dashboard/static/plotly-{version}.min.js", headers={"accept-encoding": "gzip"}
        )
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        assert "immutable" in answer.headers["cache-control"]
        assert answer.text.startswith("/**") or "plotly" in answer.text[:2000].lower()
        plain = client.get(
            f"/dashboard/static/plotly-{version}.min.js", headers={"accept-encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        assert plain.content == answer.content  # httpx undid the gzip: the same script
        assert client.get("/dashboard/static/plotly-0.0.1.min.js").status_code == 404
        script = client.get("/dashboard/static/charts.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "Plotly.newPlot" in script.text
    assert gzip.decompress(charts._plotly_gzip()) == charts._plotly_source()


def test_a_figure_cannot_close_its_script_block() -> None:
    hostile = (Hotspot("</script><script>alert(1)</script>.py", 1, {}),)
    embedded = charts.embed("hotspots", charts.hotspots(hostile), "Files")
    block = embedded.split('data-chart="hotspots">', 1)[1].rsplit("</script>", 1)[0]
    assert "</script>" not in block and "<" not in block
    figure = json.loads(block)
    assert "</script><script>alert(1)</script>.py" in figure["data"][0]["ids"]


def test_weeks_before_the_first_analysis_are_left_out_of_the_trend() -> None:
    monday = datetime(2026, 11, 2, tzinfo=UTC)
    weeks = tuple(
        WeekPoint(f"2026-W{45 + n}", monday + timedelta(weeks=n), n >= 2,
                  {"glue-code": 3} if n >= 2 else {}, 0, 0)
        for n in range(4)
    )  # fmt: skip
    figure = charts.trend(weeks)
    (trace,) = figure["data"]
    assert trace["x"] == ["2026-11-16", "2026-11-23"] and trace["y"] == [3, 3]
    assert figure["layout"]["xaxis"]["range"] == ["2026-11-02", "2026-11-23"]
