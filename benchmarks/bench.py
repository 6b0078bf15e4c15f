"""The course's performance benchmarks. ``make bench`` runs this file and prints one table.

Every row compares two things measured side by side in this one run: the rounds alternate
between them, so a machine that slows down for a while slows both alike, and each time is the
median of at least five rounds. The rows:

1. a training epoch: the common tutorial pipeline (``tutorial.py``) against ``course_utils.fit``;
2. that epoch's share of this machine's float32 matmul peak, timed in the same rounds;
3. forward + backward of ``dropout_layer`` against ``F.dropout`` and ``nn.Dropout``;
4. ``DropConnectLinear`` against ``nn.Linear``, and the per-example variant's time and memory;
5. each chapter's execution time in fast mode (through nbval, as ``make test`` runs it) and in
   full mode (as ``make course`` runs it), and its slowest full-mode cell, against the classroom
   targets (40 s, 180 s, 30 s), on whichever FashionMNIST the chapters load (the table says);
6. the time ``import course_utils`` adds to ``import torch``;
7. each chapter's *Run all* time alone and beside one busy single-threaded process (a browser
   tab or a video call, in class), under the thread policy of ``set_threads``, against the
   target of 1.3x.

Usage::

    python benchmarks/bench.py              # everything: about 35 minutes on a 2-core CPU
    python benchmarks/bench.py --rows 3,4   # some rows only
    python benchmarks/bench.py --quick      # tiny sizes, to check that the suite runs

No number here is a pass/fail test (machines are too noisy for that); the table says which
targets this run met.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from course_tools.build import build_course
from course_tools.chapters import chapters
from course_tools.idx import write_idx
from course_utils import DropConnectLinear, dropout_layer, fit, load_dataset, mlp, set_threads
from course_utils.comparison import COMPARISON
from course_utils.timing import seconds_per_call

ROOT = Path(__file__).resolve().parent.parent
ROWS = (1, 2, 3, 4, 5, 6, 7)
P = 0.5  # the drop probability of every benchmarked layer
LR = 0.01
PEAK_SHARE = {64: 0.55, 256: 0.65}  # row 2's targets: the fit epoch's share of the matmul peak
MiB = 2**20


@dataclass(frozen=True)
class Sizes:
    label: str
    train: int  # training images of row 1 (the tutorial pipeline and fit see the same number)
    val: int  # held out; both pipelines measure validation accuracy once per epoch
    repeats: int  # rounds per measurement; the table reports their median
    round_seconds: float  # a short kernel is called repeatedly until a round lasts about this
    matmul: int  # n of the n x n float32 matmul that measures the machine's peak
    dropout_shapes: tuple[tuple[int, int], ...]
    dropconnect: tuple[int, int]  # (batch, features) of the square DropConnect layer


FULL = Sizes("full sizes", 60_000, 1_000, 5, 0.2, 2048, ((256, 1024), (4096, 4096)), (128, 1024))
QUICK = Sizes("--quick sizes (a check that the suite runs; the numbers mean little)",
              1_000, 100, 5, 0.01, 128, ((32, 64), (128, 128)), (8, 64))


@dataclass
class Row:
    number: int
    what: str
    measured: str
    ratio: str
    target: str = ""
    met: bool | None = None  # None: reported, no target


# --- measuring -------------------------------------------------------------------------------


def interleaved(fns: dict[str, Callable[[], object]], *, repeats: int,
                round_seconds: float | None = None) -> dict[str, float]:
    """Median seconds per call of each function, with the rounds taken in turn.

    With ``round_seconds`` each round repeats a short function until it lasts about that long
    (one untimed call first sizes the round and warms up); without it a round is one call.
    """
    number = dict.fromkeys(fns, 1)
    if round_seconds is not None:
        for name, fn in fns.items():
            once = seconds_per_call(fn, repeats=1)
            number[name] = max(1, min(1000, round(round_seconds / max(once, 1e-9))))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(seconds_per_call(fn, repeats=1, number=number[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def peak_memory_bytes(fn: Callable[[], object], device: torch.device) -> int | None:
    """Memory that one call of ``fn`` needs at its peak, above what was in use before it.

    CUDA has its allocator's counters. On a Linux CPU it is the rise of the process's resident
    set above its size before the call: writing "5" to /proc/self/clear_refs resets the
    high-water mark. Elsewhere there is no reliable measure, and the table says n/a.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    if device.type != "cpu" or not sys.platform.startswith("linux"):
        return None
    # Memory freed earlier can stay resident in malloc's free lists, and fn would reuse it
    # without the resident set growing (a peak of 0 after a long run): hand it back first,
    # then reset the high-water mark.
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the measure may read low
        pass
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    before = _proc_status_kib("VmRSS")
    result = fn()  # held while the mark is read: the kernel may update it only at munmap
    peak = _proc_status_kib("VmHWM")
    del result
    return (peak - before) * 1024


def _proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line")


def matmul_probe(n: int, device: torch.device, seconds: float) -> tuple[Callable[[], object], int]:
    """A function that runs n x n float32 matmuls for about ``seconds``, and its FLOP count.

    Timed in the same rounds as the training epochs, its throughput is the machine's peak
    under the same conditions: on a shared machine the peak moves from minute to minute.
    """
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    calls = max(1, round(seconds / max(seconds_per_call(lambda: torch.mm(a, b), repeats=3), 1e-9)))

    def run():
        for _ in range(calls):
            torch.mm(a, b)
    return run, 2 * n**3 * calls


# --- rows 1 and 2: a training epoch ----------------------------------------------------------


def training_model(dropout_module=nn.Dropout) -> nn.Sequential:
    """Chapter 05's MLP with its dropout rates (784-256-256-10, 0.5 after each hidden layer),
    read from the chapter's protocol."""
    return mlp((1, 28, 28), list(COMPARISON.hidden), 10, dropout=list(COMPARISON.rates),
               dropout_module=dropout_module)


def epoch_flops(model: nn.Module, samples: int) -> int:
    """Forward and backward of one epoch: about 3 x the forward's multiply-adds x 2 FLOPs each."""
    macs = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))
    return 3 * 2 * macs * samples


def write_fake_fashion_mnist(root: Path, train: int, test: int) -> None:
    """FashionMNIST-shaped IDX files of random pixels: the pixel values do not change timings."""
    g = torch.Generator().manual_seed(0)
    raw = Path(root) / "FashionMNIST" / "raw"
    for prefix, n in (("train", train), ("t10k", test)):
        images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, 10, (n,), generator=g, dtype=torch.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


def bench_training(sizes: Sizes, device: torch.device, log) -> dict[int, dict[str, float]]:
    """Seconds per epoch of the tutorial pipeline and of ``fit``, at batch sizes 64 and 256."""
    epochs = {}
    with tempfile.TemporaryDirectory() as root:
        write_fake_fashion_mnist(Path(root), sizes.train + sizes.val, test=sizes.val)
        # The course's path from the same files: load_dataset converts them once, in memory.
        data = load_dataset("fashion-mnist", root=root, val_size=sizes.val, download=False,
                            fallback=None, device=device)
        for batch_size in (64, 256):
            log(f"rows 1-2: {sizes.repeats} epochs of each pipeline at batch size {batch_size}, "
                f"each round also timing {sizes.matmul}x{sizes.matmul} matmuls")
            epochs[batch_size] = epoch_seconds(root, data, batch_size, sizes, device)
    return epochs


def epoch_seconds(root, data, batch_size: int, sizes: Sizes, device) -> dict[str, float]:
    """One epoch of each pipeline per round: the tutorial's, ``fit`` with the model as chapter
    05 builds it (nn.Dropout), and ``fit`` with PyTorch's own dropout masks; plus the
    matmul probe, whose throughput is returned as ``"peak FLOP/s"``."""
    from tutorial import tutorial_epoch, tutorial_loaders

    train_loader, val_loader = tutorial_loaders(root, batch_size, val_size=sizes.val)
    tutorial_model = training_model().to(device)
    optimizer = torch.optim.SGD(tutorial_model.parameters(), lr=LR)
    fit_model = training_model().to(device)
    fit_model_torch_masks = training_model().to(device)

    def fit_epoch(model, masks="fast"):
        # "running" training metrics, as the tutorial loop keeps them: no extra pass over the
        # training set. Both pipelines then measure accuracy on the same held-out image count.
        fit(model, data, epochs=1, lr=LR, batch_size=batch_size, progress=False,
            train_metrics="running", dropout_masks=masks)

    probe, probe_flops = matmul_probe(sizes.matmul, device, seconds=0.5)
    times = interleaved({
        "tutorial": lambda: tutorial_epoch(tutorial_model, optimizer, train_loader, val_loader,
                                           device),
        "fit": lambda: fit_epoch(fit_model),
        "fit, torch masks": lambda: fit_epoch(fit_model_torch_masks, "torch"),
        "matmul": probe,
    }, repeats=sizes.repeats)
    times["peak FLOP/s"] = probe_flops / times.pop("matmul")
    return times


def training_rows(sizes: Sizes, epochs, rows: set[int]) -> list[Row]:
    out = []
    if 1 in rows:
        for batch_size, t in epochs.items():
            ratio = t["tutorial"] / t["fit"]
            target = batch_size == 64
            out.append(Row(
                1, f"training epoch, {sizes.train:,} images, batch {batch_size}: "
                   f"tutorial pipeline / fit",
                f"{t['tutorial']:.2f} s / {t['fit']:.2f} s", f"{ratio:.1f}x faster",
                ">= 3x" if target else "", ratio >= 3 if target else None))
    if 2 in rows:
        flops = epoch_flops(training_model(), sizes.train)
        for batch_size, t in epochs.items():
            peak = t["peak FLOP/s"]
            share = flops / t["fit"] / peak
            target = PEAK_SHARE.get(batch_size)
            out.append(Row(
                2, f"fit epoch, batch {batch_size}: share of the float32 matmul peak",
                f"{flops / t['fit'] / 1e9:.0f} of {peak / 1e9:.0f} GFLOP/s", f"{share:.0%}",
                f">= {target:.0%}" if target else "", share >= target if target else None))
            torch_masks = t["fit, torch masks"]
            out.append(Row(
                2, "  the same epoch with dropout_masks='torch' (nn.Dropout's bernoulli_)",
                f"{flops / torch_masks / 1e9:.0f} of {peak / 1e9:.0f} GFLOP/s",
                f"{flops / torch_masks / peak:.0%}"))
    return out


# --- row 3: dropout kernels ------------------------------------------------------------------


def bench_dropout(sizes: Sizes, device: torch.device, log) -> list[Row]:
    out = []
    for shape in sizes.dropout_shapes:
        log(f"row 3: dropout forward + backward on {shape[0]}x{shape[1]}")
        X = torch.randn(shape, device=device, requires_grad=True)
        grad = torch.ones_like(X)
        module = nn.Dropout(P).train()

        def forward_backward(layer, X=X, grad=grad):
            return lambda: torch.autograd.grad(layer(X), X, grad)

        t = interleaved({
            "dropout_layer": forward_backward(lambda x: dropout_layer(x, P)),
            "F.dropout": forward_backward(lambda x: F.dropout(x, P, training=True)),
            "nn.Dropout": forward_backward(module),
        }, repeats=sizes.repeats, round_seconds=sizes.round_seconds)
        ratio = t["dropout_layer"] / t["F.dropout"]
        size = f"{shape[0]}x{shape[1]}"
        out.append(Row(3, f"dropout fwd+bwd, {size} float32: dropout_layer / F.dropout",
                       f"{_ms(t['dropout_layer'])} / {_ms(t['F.dropout'])}", f"{ratio:.2f}x",
                       "<= 1.2x", ratio <= 1.2))
        out.append(Row(3, f"  nn.Dropout / F.dropout, {size}",
                       f"{_ms(t['nn.Dropout'])} / {_ms(t['F.dropout'])}",
                       f"{t['nn.Dropout'] / t['F.dropout']:.2f}x"))
    return out


# --- row 4: DropConnect ----------------------------------------------------------------------


def bench_dropconnect(sizes: Sizes, device: torch.device, log) -> list[Row]:
    batch, n = sizes.dropconnect
    torch.manual_seed(0)
    linear = nn.Linear(n, n).to(device)
    per_batch = DropConnectLinear(n, n, P).to(device)
    per_example = DropConnectLinear(n, n, P, per_example=True).to(device)
    for layer in (per_batch, per_example):
        layer.load_state_dict(linear.state_dict())

    def step(layer, batch):
        x = torch.randn(batch, n, device=device)
        grad = torch.ones(batch, n, device=device)

        def run():
            layer.zero_grad(set_to_none=True)  # as in a training step
            layer(x).backward(grad)
        return run

    def timed(b, layers):
        log(f"row 4: DropConnectLinear {n}x{n} at batch {b}")
        return interleaved({name: step(layer, b) for name, layer in layers.items()},
                           repeats=sizes.repeats, round_seconds=sizes.round_seconds)

    t = timed(batch, {"nn.Linear": linear, "per-batch": per_batch, "per-example": per_example})
    # The per-batch mask costs the same at any batch size, nn.Linear's work grows with it: a
    # second, larger batch shows how the ratio falls.
    big = timed(4 * batch, {"nn.Linear": linear, "per-batch": per_batch})
    ratio = t["per-batch"] / t["nn.Linear"]
    rows = [
        Row(4, f"DropConnectLinear fwd+bwd, {n}x{n}, batch {batch}: per-batch mask / nn.Linear",
            f"{_ms(t['per-batch'])} / {_ms(t['nn.Linear'])}", f"{ratio:.2f}x", "<= 2x",
            ratio <= 2),
        Row(4, f"  per-batch mask / nn.Linear, batch {4 * batch}",
            f"{_ms(big['per-batch'])} / {_ms(big['nn.Linear'])}",
            f"{big['per-batch'] / big['nn.Linear']:.2f}x"),
        Row(4, f"  per-example masks / nn.Linear, batch {batch}",
            f"{_ms(t['per-example'])} / {_ms(t['nn.Linear'])}",
            f"{t['per-example'] / t['nn.Linear']:.0f}x"),
    ]
    peak = peak_memory_bytes(step(per_example, batch), device)
    masks = batch * n * n * torch.finfo(torch.float32).bits // 8
    rows.append(Row(4, f"  per-example masks: peak memory of one step, batch {batch}",
                    *(("n/a", "") if peak is None else
                      (_bytes(peak), f"{peak / masks:.1f}x its masks ({_bytes(masks)})"))))
    return rows


# --- row 5: the chapters ---------------------------------------------------------------------

FAST_BUDGET_S, FULL_BUDGET_S = 180, 600  # the whole course
CHAPTER_FAST_S, CHAPTER_FULL_S, CELL_S = 40, 180, 30  # one chapter, and its slowest cell


def real_data_line() -> str:
    """Which FashionMNIST the chapters will load, so the table says what its times are for."""
    try:
        return load_dataset("fashion-mnist", download=False, fallback=None).description
    except Exception as err:  # noqa: BLE001 - any failure means the chapters get the fallback
        return f"digits (offline fallback: {type(err).__name__})"


def slowest_cell(executed) -> tuple[int, float]:
    """(index, seconds) of the longest-running code cell of an executed notebook (a path or
    the notebook itself).

    nbclient records when each cell started and finished in the cell's metadata.
    """
    import nbformat

    def seconds(cell) -> float:
        stamps = cell.metadata.get("execution", {})
        start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if not (start and end):
            return 0.0
        parse = datetime.datetime.fromisoformat
        return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()

    nb = nbformat.read(executed, as_version=4) if isinstance(executed, Path) else executed
    times = [(seconds(cell), i) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    longest, index = max(times, default=(0.0, 0))
    return index, longest


def bench_course(notebook_dir: Path, log) -> list[Row]:
    notebooks = chapters(notebook_dir)  # raises a clear error when there are none
    data = real_data_line()
    fast = {}
    for path in notebooks:
        log(f"row 5: {path.name} through nbval in fast mode")
        start = time.perf_counter()
        # As `make test` runs them: pytest + nbval, COURSE_FAST=1, this interpreter's kernel.
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
             "--nbval-current-env", str(path)],
            env={**os.environ, "COURSE_FAST": "1"}, cwd=ROOT, capture_output=True, text=True)
        fast[path.name] = time.perf_counter() - start
        if run.returncode != 0:
            raise SystemExit(f"{path.name} failed under nbval:\n{run.stdout[-3000:]}")
    log("row 5: every chapter in full mode, as `make course` runs them")
    with tempfile.TemporaryDirectory() as out:
        built = build_course(notebook_dir, out, log=lambda line: log(f"  {line}"))
        full = {html.stem + ".ipynb": seconds for html, seconds in built}
        cells = {name: slowest_cell(Path(out) / name) for name in full}
    rows = [Row(5, f"data: {data}", "", "")]
    for name in fast:
        index, longest = cells[name]
        met = (fast[name] <= CHAPTER_FAST_S and full[name] <= CHAPTER_FULL_S
               and longest <= CELL_S)
        rows.append(Row(5, f"  {name}: fast / full mode, slowest full-mode cell",
                        f"{fast[name]:.0f} s / {full[name]:.0f} s, cell {index} {longest:.0f} s",
                        "", f"<= {CHAPTER_FAST_S} / {CHAPTER_FULL_S} / {CELL_S} s", met))
    total_fast, total_full = sum(fast.values()), sum(full.values())
    rows.append(Row(5, f"all {len(fast)} chapters, fast mode through nbval",
                    f"{total_fast:.0f} s", f"{total_fast / FAST_BUDGET_S:.0%} of the budget",
                    f"<= {FAST_BUDGET_S} s", total_fast <= FAST_BUDGET_S))
    rows.append(Row(5, f"all {len(full)} chapters, full mode (make course)",
                    f"{total_full:.0f} s", f"{total_full / FULL_BUDGET_S:.0%} of the budget",
                    f"<= {FULL_BUDGET_S} s", total_full <= FULL_BUDGET_S))
    return rows


# --- row 6: import time ----------------------------------------------------------------------

IMPORT_BUDGET_S = 0.3
_IMPORT_CODE = (
    "import time; start = time.perf_counter(); import torch; middle = time.perf_counter(); "
    "import course_utils; print(middle - start, time.perf_counter() - middle)"
)


def bench_import(sizes: Sizes, log) -> list[Row]:
    log(f"row 6: {sizes.repeats} fresh interpreters importing torch, then course_utils")
    torch_s, ours_s = [], []
    for _ in range(sizes.repeats):
        run = subprocess.run([sys.executable, "-c", _IMPORT_CODE], capture_output=True,
                             text=True, check=True, cwd=ROOT)
        first, second = map(float, run.stdout.split())
        torch_s.append(first)
        ours_s.append(second)
    ours, theirs = statistics.median(ours_s), statistics.median(torch_s)
    return [Row(6, "import course_utils, after import torch",
                f"{ours:.3f} s (torch itself: {theirs:.1f} s)",
                f"{ours / IMPORT_BUDGET_S:.0%} of the budget", f"< {IMPORT_BUDGET_S} s",
                ours < IMPORT_BUDGET_S)]


# --- row 7: Run all beside a busy process -----------------------------------------------------

LOAD_RATIO = 1.3  # beside one busy process, a chapter may take at most this times its time alone
BUSY_CODE = "while True: pass"  # one busy core, as a browser tab or a video call makes one


def run_all(path: Path) -> tuple[float, int, float]:
    """Execute a chapter top to bottom in full mode, as *Run all* does in class.

    Returns (seconds, index of the slowest cell, its seconds). The kernel starts fresh, so
    ``set_threads`` in the setup cell applies its policy (or ``COURSE_THREADS``) as it would for
    a student.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return (time.perf_counter() - start, *slowest_cell(nb))


def bench_under_load(notebook_dir: Path, log) -> list[Row]:
    notebooks = chapters(notebook_dir)
    policy = os.environ.get("COURSE_THREADS", "").strip() or "set_threads() default"
    saved = {name: os.environ.get(name) for name in ("COURSE_FAST", "COURSE_PROGRESS")}
    os.environ.update(COURSE_FAST="0", COURSE_PROGRESS="0")
    times: dict[str, dict[str, tuple[float, int, float]]] = {}
    try:
        for path in notebooks:
            log(f"row 7: {path.name} alone")
            alone = run_all(path)
            log(f"row 7: {path.name} beside one busy process")
            busy = subprocess.Popen([sys.executable, "-c", BUSY_CODE])
            try:
                loaded = run_all(path)
            finally:
                busy.kill()
                busy.wait()
            times[path.name] = {"alone": alone, "loaded": loaded}
            log(f"row 7: {path.name}: {alone[0]:.0f} s alone, {loaded[0]:.0f} s beside a busy "
                f"process (slowest cells {alone[2]:.0f} s / {loaded[2]:.0f} s)")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    rows = [Row(7, f"threads: {policy} (COURSE_THREADS), {os.cpu_count()} cores", "", "")]
    for name, t in times.items():
        (alone, i, cell), (loaded, j, cell_loaded) = t["alone"], t["loaded"]
        ratio = loaded / alone
        rows.append(Row(7, f"  {name}: alone / beside a busy process, slowest cell",
                        f"{alone:.0f} s / {loaded:.0f} s, cell {i} {cell:.0f} s / {j} "
                        f"{cell_loaded:.0f} s", f"{ratio:.2f}x", f"<= {LOAD_RATIO}x",
                        ratio <= LOAD_RATIO))
    total_alone = sum(t["alone"][0] for t in times.values())
    total_loaded = sum(t["loaded"][0] for t in times.values())
    rows.append(Row(7, f"all {len(times)} chapters: alone / beside a busy process",
                    f"{total_alone:.0f} s / {total_loaded:.0f} s",
                    f"{total_loaded / total_alone:.2f}x"))
    return rows


# --- the table -------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _bytes(count: float) -> str:
    return f"{count / MiB:,.0f} MiB" if count >= MiB else f"{count / 1024:,.0f} KiB"


def machine_line(device: torch.device, sizes: Sizes) -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu
    threads = torch.get_num_threads()
    return (f"{datetime.date.today().isoformat()} | {cpu}, {os.cpu_count()} cores, "
            f"{threads} torch thread{'' if threads == 1 else 's'} | device {device} ({where}) | "
            f"torch {torch.__version__} | Python {platform.python_version()} | {sizes.label}")


def format_table(rows: list[Row], header: str) -> str:
    cells = [("#", "measurement", "measured", "ratio", "target", "result")]
    for row in rows:
        status = "" if row.met is None else ("met" if row.met else "MISSED")
        cells.append((str(row.number), row.what, row.measured, row.ratio, row.target, status))
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
             .rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return "\n".join([header, "", *lines])


def run(rows: set[int], sizes: Sizes, device: torch.device, notebook_dir: Path,
        log=lambda line: print(line, file=sys.stderr, flush=True)) -> str:
    """Measure the requested rows and return the table."""
    results: list[Row] = []
    if rows & {1, 2}:
        epochs = bench_training(sizes, device, log)
        results += training_rows(sizes, epochs, rows)
    if 3 in rows:
        results += bench_dropout(sizes, device, log)
    if 4 in rows:
        results += bench_dropconnect(sizes, device, log)
    if 5 in rows:
        results += bench_course(notebook_dir, log)
    if 6 in rows:
        results += bench_import(sizes, log)
    if 7 in rows:
        results += bench_under_load(notebook_dir, log)
    return format_table(results, machine_line(device, sizes))


def parse_rows(text: str) -> set[int]:
    try:
        rows = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rows takes numbers like 1,3,5, got {text!r}") from None
    if not rows or not rows <= set(ROWS):
        raise argparse.ArgumentTypeError(f"--rows takes numbers from {ROWS}, got {text!r}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: checks that every row runs in seconds")
    parser.add_argument("--rows", type=parse_rows, default=set(ROWS),
                        help="comma-separated rows to run (default: all, 1-7)")
    parser.add_argument("--device", default="cpu", help="where rows 1-4 run (default: cpu)")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks" / "solutions",
                        help="the chapters that row 5 executes (default: notebooks/solutions/)")
    args = parser.parse_args(argv)
    # The thread count every chapter's setup cell chooses (COURSE_THREADS overrides it), so
    # that rows 1-4 measure what a class runs; the table's first line says how many.
    set_threads()
    table = run(args.rows, QUICK if args.quick else FULL, torch.device(args.device),
                args.notebooks)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
