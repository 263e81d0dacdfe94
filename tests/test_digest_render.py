"""The HTML digest as a leader's phone shows it: rendered by headless Chromium to a PNG."""

from __future__ import annotations

import shutil
import subprocess
import tomllib

from conftest import ROOT, run_cli
from PIL import Image, ImageStat

LABELLED = ROOT / "tests" / "data" / "labelled"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def screenshot(html, png, width: int = 820, height: int = 1800) -> Image.Image:
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", f"--window-size={width},{height}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return Image.open(png)


def test_secretariat_digest_renders_in_chromium(tmp_path):
    labels = tomllib.loads((LABELLED / "labels.toml").read_text(encoding="utf-8"))["mail"]
    (tmp_path / "data").mkdir()
    env = {"MAILBOT_DATA_DIR": str(tmp_path / "data"),
           "MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    config = ROOT / "config.example.toml"
    run_cli("import", *[str(LABELLED / m["file"]) for m in labels], config=config, env=env)
    run_cli("digest", "--secretariat", "--dry-run", str(tmp_path / "out"), config=config, env=env)
    html = tmp_path / "out" / "秘书处.html"
    assert "四川师范大学" in html.read_text(encoding="utf-8")
    image = screenshot(html, tmp_path / "digest.png").convert("L")
    assert image.size == (820, 1800)
    top = image.crop((0, 0, 820, 600))
    dark = sum(top.histogram()[:128]) / (820 * 600)
    assert 0.01 < dark < 0.5, dark                     # text drawn, not a blank or black page
    assert ImageStat.Stat(top).stddev[0] > 20
