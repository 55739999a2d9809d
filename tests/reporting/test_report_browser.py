"""Render index.html in headless Chromium: the page loads, its figures decode, the screenshot is not blank; the
per-paper pages render, every link inside the page resolves, and no figure's title runs off the figure.

Skipped with a reason when no Chromium is installed locally (``apt-get install
-y chromium`` provides it); under ``CI=true`` a missing browser fails, and
``.ci/run`` installs it. Set ``THEORYCHECK_SCREENSHOT`` to a
path to keep the screenshot for a person to look at.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from _pixels import title_clipped

from theorycheck.reporting.report import write_run

from _synthetic import PAPERS, record_with_papers

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome", "chrome") if shutil.which(b)), None)
# under CI (which installs it, see .ci/run) a missing browser is a failure, not a silent skip
IN_CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(BROWSER is None and not IN_CI,
                                reason="no headless Chromium on PATH (apt-get install -y chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Appended to a *copy* of the page only: the report itself carries no scripts.
PROBE = """<script>window.addEventListener('load', () => document.body.setAttribute('data-decoded',
  Array.from(document.images).map(i => i.complete ? i.naturalWidth + 'x' + i.naturalHeight : 'pending').join(',')));
</script>"""


def _chromium(*args, timeout=90):
    assert BROWSER is not None, "CI=true but no chromium on PATH: .ci/run installs it with apt-get as root"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=timeout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "report"
    write_run(record_with_papers(), out)
    return out


def test_every_figure_loads_and_decodes(report):
    probe = report / "probe.html"
    probe.write_text((report / "index.html").read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri()).stdout
    assert "<h1>theorycheck report</h1>" in dom
    m = re.search(r'data-decoded="([^"]*)"', dom)
    assert m, "load event never fired"
    sizes = m.group(1).split(",")
    # the evidence's four figures, the margins of the FAIL claim (taller: one bar per case) and of the finding (one)
    assert len(sizes) == 6 and sizes.count("504x315") == 5 and all(s.startswith("504x") for s in sizes), sizes


def test_screenshot_shows_the_page_with_its_figures(report, tmp_path):
    shot = Path(os.environ.get("THEORYCHECK_SCREENSHOT", tmp_path / "report.png"))
    res = _chromium(f"--screenshot={shot}", "--window-size=1200,6000", (report / "index.html").as_uri())
    assert shot.is_file(), res.stderr[-2000:]
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[:2] == (6000, 1200)
    non_white = (img < 0.95).any(axis=2).mean()
    assert non_white > 0.03, f"screenshot nearly blank ({non_white:.1%} non-white)"
    # matplotlib's first colour (#1f77b4) only appears inside the embedded figures
    c0 = np.abs(img - np.array([0x1F, 0x77, 0xB4]) / 255).max(axis=2) < 0.06
    assert c0.sum() > 200, "no figure pixels in the screenshot"
    # the PASS badge colour (#1a7f37) shows the summary table rendered with its CSS
    badge = np.abs(img - np.array([0x1A, 0x7F, 0x37]) / 255).max(axis=2) < 0.06
    assert badge.sum() > 100
    # and the FINDING badge (#0969da) apart from FAIL's red: the declared finding reads as a finding
    finding = np.abs(img - np.array([0x09, 0x69, 0xDA]) / 255).max(axis=2) < 0.06
    assert finding.sum() > 100


# Collects, on a copy of the page, what a reader would click and see: every in-page link and whether its target
# exists and is rendered, and each paper section's size and rows.
LINKS_PROBE = """<script>window.addEventListener('load', () => {
  const shown = el => !!el && el.getBoundingClientRect().height > 0;
  const links = Array.from(document.querySelectorAll('a[href^="#"]')).map(a => {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    return [id, shown(document.getElementById(id))]; });
  const papers = Array.from(document.querySelectorAll('section[id^="paper-"]')).map(s =>
    [s.id, Math.round(s.getBoundingClientRect().height), s.querySelectorAll('tbody tr').length]);
  document.body.setAttribute('data-probe', JSON.stringify({links, papers}));
});</script>"""


def _probe(report):
    page = report / "probe-links.html"
    page.write_text((report / "index.html").read_text().replace("</body>", LINKS_PROBE + "</body>"))
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", page.as_uri()).stdout
    m = re.search(r"data-probe=\"([^\"]*)\"", dom)
    assert m, "load event never fired"
    import html
    import json

    return json.loads(html.unescape(m.group(1))), dom


def test_the_paper_pages_render_and_every_link_resolves(report):
    probe, _ = _probe(report)
    broken = [i for i, ok in probe["links"] if not ok]
    assert probe["links"] and not broken, broken
    shown = {key: (height, rows) for key, height, rows in probe["papers"]}
    for p in PAPERS:  # each paper is a rendered section with one row per statement
        height, rows = shown[f"paper-{p['key']}"]
        assert height > 50 and rows == len(p["statements"])
    assert "paper-none" in shown  # the claim under no paper has its own section
    linked = {i for i, _ in probe["links"]}
    assert {f"paper-{p['key']}" for p in PAPERS} <= linked and "synthetic-finding-counterexample" in linked


def test_no_figure_title_is_clipped(report):
    _, dom = _probe(report)
    import base64

    pngs = [base64.b64decode(b) for b in re.findall(r'<img src="data:image/png;base64,([^"]+)"', dom)]
    assert len(pngs) == 6  # the figures (formula images carry a class and are not figures)
    assert not [i for i, png in enumerate(pngs) if title_clipped(png)]
