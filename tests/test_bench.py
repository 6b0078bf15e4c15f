"""The benchmark suite (benchmarks/bench.py) runs and prints its table.

Nothing here asserts a wall-clock time: machines are too noisy for that. `make bench` is where
the numbers are read; see benchmarks/README.md.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, writes

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/bench.py as a module (it is a script, not part of the package)."""
    sys.path.insert(0, str(BENCH.parent))  # bench.py imports tutorial.py beside it
    try:
        spec = importlib.util.spec_from_file_location("bench", BENCH)
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench"] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("bench", None)
        sys.path.remove(str(BENCH.parent))


def test_quick_run_prints_every_row_of_the_table(tmp_path):
    # Row 5 executes whatever chapters it is given: one tiny chapter keeps this test short.
    chapter = new_notebook(cells=[
        new_markdown_cell("# 01 · Tiny\n\n**What you will learn**\n- nothing\n\n**Time:** 1 min"),
        new_code_cell("import os\nprint(os.environ['COURSE_FAST'])"),
    ])
    (tmp_path / "01_tiny.ipynb").write_text(writes(chapter))

    run = subprocess.run([sys.executable, str(BENCH), "--quick", "--notebooks", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)

    assert run.returncode == 0, run.stderr[-3000:]
    header, blank, columns, rule, *rows = run.stdout.strip().splitlines()
    assert f"torch {torch.__version__}" in header and "--quick sizes" in header
    assert " torch thread" in header  # rows 1-4 ran under set_threads(), and say with how many
    assert columns.split() == ["#", "measurement", "measured", "ratio", "target", "result"]
    assert set(rule) <= {"-", " "}
    assert {int(row.split()[0]) for row in rows} == {1, 2, 3, 4, 5, 6, 7}
    text = "\n".join(rows)
    for measurement in ("tutorial pipeline / fit", "share of the float32 matmul peak",
                        "dropout_masks='torch'",
                        "dropout_layer / F.dropout", "per-batch mask / nn.Linear",
                        "per-example masks: peak memory", "01_tiny.ipynb: fast / full mode",
                        "data: ",
                        "fast mode through nbval", "full mode (make course)",
                        "import course_utils", "01_tiny.ipynb: alone / beside a busy process",
                        "threads: "):
        assert measurement in text, f"no row for {measurement!r}:\n{text}"
    targets = [row for row in rows if re.search(r"(>=|<=|<) [\d.]+", row)]
    assert len(targets) == 11, text  # each target row says whether this run met it
    assert all(row.rstrip().endswith(("met", "MISSED")) for row in targets), text
    assert not re.search(r"\bnan\b|\binf\b", text, re.IGNORECASE), text
    assert "row 5: 01_tiny.ipynb through nbval in fast mode" in run.stderr
    assert "row 7: 01_tiny.ipynb beside one busy process" in run.stderr


def test_rows_option_is_checked(bench):
    assert bench.parse_rows("3,1") == {1, 3}
    for bad in ("8", "one", ""):
        with pytest.raises(Exception, match="--rows takes numbers"):
            bench.parse_rows(bad)


def test_interleaved_reports_each_function(bench):
    calls = {"a": 0, "b": 0}

    def count(name):
        return lambda: calls.__setitem__(name, calls[name] + 1)

    times = bench.interleaved({"a": count("a"), "b": count("b")}, repeats=5)
    assert set(times) == {"a", "b"} and all(t >= 0 for t in times.values())
    assert calls == {"a": 5, "b": 5}  # one call per round without round_seconds


def test_epoch_flops_counts_forward_and_backward(bench):
    macs = 784 * 256 + 256 * 256 + 256 * 10
    assert bench.epoch_flops(bench.training_model(), 10) == 3 * 2 * macs * 10


def test_peak_memory_sees_a_large_allocation(bench):
    size = 64 * 2**20
    peak = bench.peak_memory_bytes(lambda: torch.ones(size // 4), torch.device("cpu"))
    if peak is None:
        pytest.skip("no peak-memory measure on this platform")
    assert 0.9 * size <= peak <= 2 * size
