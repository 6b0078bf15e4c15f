"""`make figures`: the README's figures come from code, and the README shows the ones we make."""

import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ["with_without_dropout.png", "dropout_gap.png", "mask_grid.png"]


def test_figures_command_writes_every_figure(tmp_path, real_data_env):
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "figures", "--out", str(tmp_path), "--fast"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    for name in FIGURES:
        image = matplotlib.image.imread(tmp_path / name)
        assert image.shape[0] > 200 and image.shape[1] > 400, f"{name} is {image.shape}"
        assert image[..., :3].std() > 0.05, f"{name} looks blank"
        assert f"wrote {tmp_path / name}" in result.stdout
    assert re.search(r"no dropout: gap over the last 5 epochs -?\d\.\d{3}", result.stdout)


def test_readme_shows_the_generated_figures_and_they_are_committed():
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", readme)
    assert sorted(Path(p).name for p in shown) == sorted(FIGURES)
    for path in shown:
        assert (ROOT / path).is_file(), f"{path} is missing: run `make figures`"
