"""What a person looks at: results in Jupyter, heatmaps of err/allowed, --save's arrays, and
--html's self-contained report, parsed everywhere and seen in a real browser where one exists."""

import base64
import io
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.image import imread
from typer.testing import CliRunner

from conv1d_check import check
from conv1d_check.cli import app
from conv1d_check.report import plots

LAYERS = Path(__file__).parent / "layers"
BROKEN = f"{LAYERS / 'broken_stride_ignored_backward.py'}:Conv1D"  # dX, dW wrong at stride > 1
SMALL = {"batch": 2, "in_channels": 2, "out_channels": 3, "length": 9}
GRID = """
[defaults]
batch = 1
in = 1
out = 2
length = 9
[[grid]]
stride = [1, 2]
kernel_size = [1, 3]
"""
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1"})


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.fixture(scope="module")
def failing():
    return check(impl=BROKEN, **SMALL)


def test_a_results_repr_is_short_its_id_verdict_and_worst_share(failing):
    passing = check(**SMALL)
    share = max(e.share for e in passing.errors.values())
    assert repr(passing).startswith(f"CaseResult({passing.id}, pass, worst: ")
    assert f"{share:.3g} of its allowance" in repr(passing)
    assert repr(failing).startswith(f"CaseResult({failing.id}, fail, worst: d")
    assert len(repr(failing)) < 150


def test_in_jupyter_a_passing_result_is_the_table_with_pass():
    bundle = check(**SMALL)._repr_mimebundle_()
    for name in ("y", "dX", "dW", "db"):
        assert f"│ {name} " in bundle["text/plain"]
    assert bundle["text/plain"].count("PASS") == 4 and "FAIL" not in bundle["text/plain"]
    assert bundle["text/html"].startswith("<pre") and "err/allowed" in bundle["text/html"]
    assert "<img" not in bundle["text/html"]
    assert check(**SMALL)._repr_html_() == bundle["text/html"]  # for frontends that ask only this


def test_in_jupyter_a_failing_result_shows_fail_the_diagnosis_and_a_heatmap(failing):
    bundle = failing._repr_mimebundle_()
    assert "FAIL" in bundle["text/html"] and "diagnosis: dX: matches a backward" in bundle[
        "text/plain"
    ].replace("\n", " ")
    pictures = bundle["text/html"].split('src="data:image/png;base64,')[1:]  # dX's and dW's
    assert [png_size(base64.b64decode(p.split('"')[0])) for p in pictures] == [(700, 320)] * 2


def test_a_heatmap_is_err_over_allowed_of_the_worst_sample():
    error = np.zeros((2, 2, 3))
    error[1, 0, 2] = 8.0  # the worst element is in sample 1
    error[0, 1, 1] = 3.0
    error[1, 1, 0] = np.nan
    allowed = np.full((2, 2, 3), 2.0)
    allowed[1, 1, 1] = 0.0  # an exact element allowed nothing is still exact
    grid, title, rows, columns = plots.ratio_grid("y", {"error_y": error, "allowed_y": allowed})
    assert title.startswith("y, sample 1") and (rows, columns) == ("channel", "position")
    assert grid.tolist() == [[0.0, 0.0, 4.0], [np.inf, 0.0, 0.0]]


def test_a_weight_heatmap_is_out_channel_by_in_channel_and_tap():
    error = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    grid, *_ = plots.ratio_grid("dW", {"error_dW": error, "allowed_dW": np.ones_like(error)})
    assert grid.shape == (2, 12) and grid[1, 2 * 4 + 3] == error[1, 2, 3]


def test_a_large_grid_is_drawn_as_blocks_each_its_worst_element():
    grid = np.zeros((3, 10))
    grid[2, 9] = 5.0
    grid[0, 1] = 2.0
    blocks, steps = plots.pooled(grid, most=(2, 4))
    assert steps == (2, 3) and blocks.tolist() == [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0]]
    assert plots.pooled(grid)[1] == (1, 1)
    assert png_size(plots.heatmap("db", {"error_db": np.ones(5000), "allowed_db": np.ones(5000)}))


def test_save_round_trips_and_the_truth_is_torchs(tmp_path):
    path = tmp_path / "case.npz"
    done = invoke("-n", 2, "--in", 2, "--out", 3, "-l", 9, "--save", path)
    assert done.exit_code == 0, done.output
    with np.load(path, allow_pickle=False) as saved:
        arrays = dict(saved)
    x, W, b = (torch.from_numpy(arrays[n]).requires_grad_() for n in ("x", "W", "b"))
    y = torch.nn.functional.conv1d(x, W, b, stride=2)
    y.backward(torch.from_numpy(arrays["dy"]))
    for name, value in {"y": y, "dX": x.grad, "dW": W.grad, "db": b.grad}.items():
        np.testing.assert_allclose(arrays[f"truth_{name}"], value.detach().numpy(), rtol=1e-12)
        error = np.abs(arrays[f"layer_{name}"] - arrays[f"truth_{name}"])
        np.testing.assert_array_equal(arrays[f"error_{name}"], error)
        assert (arrays[f"allowed_{name}"] > 0).all()
    assert str(arrays["id"]) == "in2-out3-k3-s2-p0-d1-g1-bias-zeros-n2-l9-float64-seed10"


def test_the_api_result_holds_the_arrays_it_saves(tmp_path, failing):
    failing.save(tmp_path / "r.npz")
    with np.load(tmp_path / "r.npz", allow_pickle=False) as saved:
        assert set(saved.files) == {"id", *failing.arrays}
        np.testing.assert_array_equal(saved["error_dW"], failing.arrays["error_dW"])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The report and arrays of a broken layer's sweep over stride and kernel size."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "grid.toml").write_text(GRID)
    page, saved = folder / "report.html", folder / "smallest.npz"
    done = invoke(
        "--config", folder / "grid.toml", "--impl", BROKEN, "--html", page,
        "--map", "stride,kernel_size", "--save", saved, "-q",
    )  # fmt: skip
    assert done.exit_code == 1, done.output
    return page, saved


def test_a_sweeps_save_holds_each_failure_groups_smallest_case(sweep):
    with np.load(sweep[1], allow_pickle=False) as saved:
        # the smallest failing case: kernel 3 leaves 4 outputs of 9 samples, kernel 1 five
        assert saved["ids"].tolist() == ["in1-out2-k3-s2-p0-d1-g1-bias-zeros-n1-l9-float64-seed10"]
        assert saved["case1_error_dX"].shape == (1, 1, 9) and saved["case1_error_dX"].max() > 0


class Page(HTMLParser):
    """The tags, attributes and text of an HTML page."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_report_stands_alone_with_its_groups_heatmaps_and_map(sweep):
    source = sweep[0].read_text()
    page = Page()
    page.feed(source)
    page.close()
    text = "".join(page.text)
    pictures = [a["src"] for tag, a in page.tags if tag == "img"]
    assert len(pictures) == 3  # the map, and the smallest case's dX and dW
    for src in pictures:
        assert src.startswith("data:image/png;base64,")
        png_size(base64.b64decode(src.split(",", 1)[1]))
    links = [v for _, a in page.tags for k, v in a.items() if k in ("src", "href")]
    assert all(v.startswith("data:") for v in links)
    assert "http://" not in source and "https://" not in source and "@import" not in source
    assert "FAIL" in text and "Group 1: FAIL, 2 case(s)" in text
    assert "pattern: fails exactly when stride >= 2" in text
    assert f"conv1d-check --in 1 --out 2 -n 1 -l 9 --impl {BROKEN}" in text  # k 3 is smallest
    assert "err/allowed" in text and "diagnosis: dX" in text


def test_html_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(plots, "available", lambda: False)
    done = invoke("--html", tmp_path / "r.html")
    assert done.exit_code == 2
    assert done.output == f"Error: --html: {plots.MISSING}\n"
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--map", "stride"], "--map stride: give two different parameters"),
        (["--map", "stride,colour"], "--map stride,colour: give two different parameters"),
        (["--map", "stride,kernel_size"], "--map: the map is drawn in the --html report"),
    ],
)
def test_a_bad_map_is_one_line_and_exit_2(args, says):
    done = invoke(*args)
    assert done.exit_code == 2 and done.output.startswith(f"Error: {says}")
    assert done.output.count("\n") == 1


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (Debian: chromium)")
def test_a_browser_shows_the_reports_pictures(sweep, tmp_path):
    shot = tmp_path / "shot.png"
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={shot}", "--window-size=1000,2400", sweep[0].as_uri()],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    pixels = imread(io.BytesIO(shot.read_bytes()))[..., :3]
    assert pixels.shape[:2] == (2400, 1000)
    red = np.all(np.abs(pixels - (0.70, 0.02, 0.15)) < 0.08, axis=-1).sum()  # coolwarm's top
    green = np.all(np.abs(pixels - (0.79, 0.95, 0.79)) < 0.03, axis=-1).sum()  # passed cells
    assert red > 20_000 and green > 2_000, (red, green)  # heatmaps and map drawn, not blank


def test_in_jupyter_a_run_shows_its_groups_with_a_python_call_and_its_verdict(failing):
    from conv1d_check.check.result import RunResult

    passing = check(**SMALL)
    bundle = RunResult([passing, failing], total=2, seconds=1.0)._repr_mimebundle_()
    text = bundle["text/plain"].replace("\n", " ")
    assert "FAIL 1 case(s): dX: matches a backward that ignores the stride" in text
    call = "conv1d_check.check(in_channels=2, out_channels=3, batch=2, length=9, impl="
    assert f"smallest: {call}{BROKEN!r})" in text
    assert "FAIL: 2 case(s), 1 pass, 1 fail" in text and "<pre" in bundle["text/html"]
    assert (
        repr(RunResult([passing, failing], 2, 1.0)) == "RunResult(FAIL: 2 case(s), 1 pass, 1 fail)"
    )


def test_the_html_report_of_one_passing_case_is_its_table(tmp_path):
    done = invoke("-n", 2, "--in", 2, "--out", 3, "-l", 9, "--html", tmp_path / "one.html")
    assert done.exit_code == 0, done.output
    page = Page()
    page.feed((tmp_path / "one.html").read_text())
    text = "".join(page.text)
    assert (
        "PASS" in text and "1 of 1 case(s): 1 pass" in text and text.count("PASS") == 6
    )  # title, verdict, 4 rows
    assert not [a for tag, a in page.tags if tag == "img"]  # nothing failed: no heatmap


def test_nothing_is_run_again_or_written_after_an_interrupt(tmp_path, capsys):
    from conv1d_check.check.result import RunResult
    from conv1d_check.cli import pictures

    run = RunResult([check(**SMALL)], total=3, seconds=0.1, interrupted=True)
    params = {"save": tmp_path / "a.npz", "html": tmp_path / "a.html"}
    pictures.write(run, False, params, None, str)
    assert not list(tmp_path.iterdir())
    assert capsys.readouterr().err == "--save, --html: not written, the run was interrupted\n"
