"""The course in a real browser: headless Chromium driven by Selenium (`make test-browser`).

test_mask_explorer_in_jupyterlab
    1. copies chapter 02 (and its exercise edition) into a temporary folder (JupyterLab autosaves outputs into the notebooks
       it opens, and the repository keeps its notebooks without outputs) and starts JupyterLab
       there, with its configuration, settings and workspaces in temporary folders too;
    2. opens the notebook, waits for the kernel, runs all cells and waits until every code cell
       has run, then checks that none produced an error;
    3. reads the mask explorer (slider "p (drop)", "resample" button, kept-fraction readout and
       a matplotlib figure), presses the right arrow key four times on the slider's handle and
       checks that p went from 0.50 to 0.70, that the readout shows a new kept fraction close to
       1 - p and that a new, non-empty picture replaced the old one;
    4. clicks "resample" and checks that the mask seed went up and the picture changed at the
       same p.

test_a_folded_solution_opens_with_one_click_in_jupyterlab
    opens chapter 02's exercise edition in the same JupyterLab, checks that every folded solution
    and model answer renders closed with its body hidden, clicks the first one's summary and
    checks that its code is now shown, and only its own.

test_rise_presents_a_chapter_in_jupyterlab
    opens chapter 02 through jupyterlab-rise (the /rise/ view of the same JupyterLab) and checks
    that reveal.js shows its slides, the title first, with the set-up cell skipped.

The book site and the decks are tested in test_site_and_slides.py.

Screenshots (and JupyterLab's log) go to $COURSE_BUILD_DIR/browser-test/ for a human to look at.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from course_tools.chapters import EXERCISES, SOURCES, chapter_info

REPO = Path(__file__).resolve().parents[2]
CHAPTER = "02_bernoulli_mask.ipynb"
TOKEN = "course-browser-test"

# Chapter 02 runs in well under a minute in fast mode, but kernel start-up and the first torch
# import are slow on a small shared CPU.
SERVER_TIMEOUT_S = 120
KERNEL_TIMEOUT_S = 180
RUN_ALL_TIMEOUT_S = 420
WIDGET_TIMEOUT_S = 60  # for a widget to redraw, or a page of the rendered course to load


def wait_until(probe, done, timeout, what):
    """Call ``probe()`` until ``done(state)`` holds for what it returns; return that state, or
    fail saying what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        state = probe()
        if state is not None and done(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}; last seen: {state!r}")
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------------
# JupyterLab


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def stop(process: subprocess.Popen) -> None:
    # SIGTERM lets the server shut its kernels down; they run in sessions of their own.
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(grace)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def jupyterlab(tmp_path, artifacts):
    """A JupyterLab server on a copy of chapter 02; yields its base URL."""
    work = tmp_path / "notebooks"
    (work / "exercises").mkdir(parents=True)
    shutil.copy(REPO / SOURCES / CHAPTER, work / CHAPTER)
    shutil.copy(REPO / EXERCISES / CHAPTER, work / "exercises" / CHAPTER)
    config, settings = tmp_path / "jupyter-config", tmp_path / "lab-settings"
    # No "news and updates" notification, which would ask a question and check the network.
    write_json(config / "labconfig" / "page_config.json",
               {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    # Render every cell in full (no windowing), so that scrolling to the widget lands on it.
    write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
               {"windowingMode": "none"})
    env = {
        **os.environ,
        "COURSE_FAST": "1",
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),  # the kernelspec comes from the venv
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # fail loudly rather than move to a port we don't poll
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands and read state
    ]
    log_path = artifacts / "jupyterlab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=work, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {server.returncode}:\n"
                            f"{log_path.read_text()[-3000:]}")
            try:
                request = urllib.request.Request(f"{url}/api/status",
                                                 headers={"Authorization": f"token {TOKEN}"})
                with urllib.request.urlopen(request, timeout=5):
                    break
            except OSError as err:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer on {url} within {SERVER_TIMEOUT_S} s "
                                f"({err}); its log is {log_path}")
                time.sleep(0.5)
        yield url
    finally:
        stop(server)


KERNEL_JS = """
const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
const dialog = document.querySelector('.jp-Dialog');
return {
  kernel: panel?.sessionContext?.session?.kernel?.status ?? null,
  dialog: dialog ? dialog.textContent.trim().slice(0, 300) : null,
};
"""

NOTEBOOK_JS = """
const panel = window.jupyterapp.shell.currentWidget;
const cells = panel.content.model.cells;
const state = {
  kernel: panel.sessionContext.session?.kernel?.status ?? null,
  code_cells: 0, not_run: 0, errors: [], stderr: [],
  running: [...panel.node.querySelectorAll('.jp-InputPrompt')]
    .filter(prompt => prompt.textContent.includes('*')).length,
};
for (let i = 0; i < cells.length; i++) {
  const cell = cells.get(i);
  if (cell.type !== 'code') continue;
  state.code_cells += 1;
  if (cell.executionCount === null) state.not_run += 1;
  // Numbered from 1 like Lab's status bar, and named by their first line.
  const where = `cell ${i + 1} (${cell.sharedModel.getSource().split('\\n')[0]})`;
  for (const out of cell.outputs.toJSON()) {
    if (out.output_type === 'error') state.errors.push(`${where}: ${out.ename}: ${out.evalue}`);
    if (out.output_type === 'stream' && out.name === 'stderr') {
      state.stderr.push(`${where}: ${[].concat(out.text).join('').trim().slice(0, 200)}`);
    }
  }
}
return state;
"""

EXPLORER_XPATH = "//div[contains(@class, 'widget-vbox')][.//label[normalize-space()='p (drop)']]"

EXPLORER_JS = """
const box = arguments[0];
const img = box.querySelector('.widget-output img');
const rect = img ? img.getBoundingClientRect() : null;
return {
  kernel: window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status ?? null,
  slider: box.querySelector('.widget-readout')?.textContent.trim() ?? null,
  readout: box.querySelector('.widget-html-content')?.textContent.trim() ?? null,
  src: img ? img.src : '',
  natural: img ? [img.naturalWidth, img.naturalHeight] : null,
  shown: rect ? [Math.round(rect.width), Math.round(rect.height)] : null,
  loaded: Boolean(img && img.complete && img.naturalWidth > 0 && img.naturalHeight > 0),
};
"""

# kept fraction: 0.497 (expected 1 − p = 0.50; mask seed 0)
READOUT = re.compile(r"kept fraction: ([0-9.]+) \(expected 1 \S p = ([0-9.]+); mask seed (\d+)\)")


def read_explorer(driver, box) -> dict:
    """The explorer as displayed: slider value, readout (parsed too) and the figure."""
    view = driver.execute_script(EXPLORER_JS, box)
    src = view.pop("src")
    # A digest tells pictures apart and keeps the base64 PNG out of failure messages.
    view["image"] = f"{hashlib.sha1(src.encode()).hexdigest()[:12]} ({len(src)} chars)"
    if not src.startswith("data:image/png;base64,"):
        view["image"] = f"not a PNG: {src[:60]!r}"
    match = READOUT.fullmatch(view["readout"] or "")
    view["kept"], view["expected"], view["seed"] = (
        (float(match[1]), float(match[2]), int(match[3])) if match else (None, None, None))
    view["p"] = float(view["slider"]) if re.fullmatch(r"[0-9.]+", view["slider"] or "") else None
    return view


def settled(view: dict) -> bool:
    """The kernel has finished redrawing and the page shows a complete picture and readout."""
    return view["kernel"] == "idle" and view["loaded"] and view["kept"] is not None


def check_view(view: dict, p: float) -> None:
    assert view["p"] == pytest.approx(p), f"the slider should show p = {p:.2f}: {view}"
    assert view["expected"] == pytest.approx(1 - p), f"the readout should expect 1 - p: {view}"
    assert abs(view["kept"] - (1 - p)) < 0.1, f"the kept fraction should be about 1 - p: {view}"
    width, height = view["shown"]
    assert width > 0 and height > 0, f"the figure is not displayed: {view}"


def test_mask_explorer_in_jupyterlab(browser, jupyterlab, artifacts):
    started = time.monotonic()
    browser.get(f"{jupyterlab}/lab/tree/{CHAPTER}?token={TOKEN}")
    wait_until(lambda: browser.execute_script(KERNEL_JS),
               lambda s: s["kernel"] == "idle" and not s["dialog"],
               KERNEL_TIMEOUT_S, "the notebook's kernel to start")

    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    # Running all cells stops at the first error, leaving the cells below it unrun.
    ran = wait_until(
        lambda: browser.execute_script(NOTEBOOK_JS),
        lambda s: s["kernel"] == "idle" and not s["running"] and (not s["not_run"] or s["errors"]),
        RUN_ALL_TIMEOUT_S, "all cells to run")
    assert not ran["errors"], f"cells raised errors: {ran['errors']}"
    print(f"opened the notebook and ran its {ran['code_cells']} code cells in "
          f"{time.monotonic() - started:.0f} s; stderr: {ran['stderr']}")

    # Widget views render a moment after the kernel has sent their state.
    explorers = wait_until(
        lambda: browser.find_elements(By.XPATH, EXPLORER_XPATH), len, WIDGET_TIMEOUT_S,
        "the mask explorer (a VBox with the slider 'p (drop)') to appear")
    assert len(explorers) == 1, f"expected one mask explorer on the page, found {len(explorers)}"
    box = explorers[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    before = wait_until(lambda: read_explorer(browser, box), settled, WIDGET_TIMEOUT_S,
                        "the mask explorer to draw its first mask")
    browser.save_screenshot(str(artifacts / "lab-1-before.png"))
    check_view(before, 0.5)
    assert before["seed"] == 0, f"the first mask should use seed 0: {before}"

    # The handle is a keyboard-focusable noUiSlider element: each arrow key is one step of 0.05
    # (and, with continuous_update=False, one update sent to the kernel).
    handle = box.find_element(By.CSS_SELECTOR, ".noUi-handle")
    for _ in range(4):
        handle.send_keys(Keys.ARROW_RIGHT)
    moved = wait_until(
        lambda: read_explorer(browser, box),
        lambda v: settled(v) and v["p"] == pytest.approx(0.7) and v["image"] != before["image"]
        and v["expected"] == pytest.approx(1 - v["p"]),
        WIDGET_TIMEOUT_S, f"the explorer to redraw at p = 0.70 (before: {before})")
    browser.save_screenshot(str(artifacts / "lab-2-slider.png"))
    check_view(moved, 0.7)
    assert moved["kept"] != before["kept"], f"the kept fraction did not change: {moved}"
    assert moved["seed"] == 0, f"moving the slider should keep the mask seed: {moved}"

    box.find_element(By.XPATH, ".//button[normalize-space()='resample']").click()
    resampled = wait_until(
        lambda: read_explorer(browser, box),
        lambda v: settled(v) and v["seed"] == 1 and v["image"] != moved["image"],
        WIDGET_TIMEOUT_S, f"a new mask after 'resample' (before: {moved})")
    browser.save_screenshot(str(artifacts / "lab-3-resample.png"))
    check_view(resampled, 0.7)

    for name, view in (("before", before), ("slider", moved), ("resample", resampled)):
        print(f"{name}: p = {view['slider']} | {view['readout']} | image {view['image']}, "
              f"{view['natural']} px shown at {view['shown']}")
    print(f"done in {time.monotonic() - started:.0f} s; screenshots in {artifacts}")


DETAILS_JS = """
const panel = window.jupyterapp.shell.currentWidget;
return [...panel.node.querySelectorAll('.jp-RenderedMarkdown details')].map(d => {
  const body = d.querySelector('pre') || d.querySelector('p');
  // A closed <details> hides its content with content-visibility, which keeps a layout box:
  // checkVisibility() sees that, where a bounding rectangle would not.
  return {
    summary: d.querySelector('summary')?.textContent.trim() ?? null,
    open: d.open,
    visible: Boolean(body && body.checkVisibility({contentVisibilityAuto: true,
                                                   opacityProperty: true,
                                                   visibilityProperty: true})),
    text: body ? body.textContent.slice(0, 200) : '',
  };
});
"""


def test_a_folded_solution_opens_with_one_click_in_jupyterlab(browser, jupyterlab, artifacts):
    """The exercise edition: every solution and model answer is folded, and one click on its
    summary shows it."""
    import nbformat

    from course_tools.exercises import HIDDEN_KEY

    edition = nbformat.read(REPO / EXERCISES / CHAPTER, as_version=4)
    folded = [c for c in edition.cells if c.metadata.get("course", {}).get(HIDDEN_KEY)]
    browser.get(f"{jupyterlab}/lab/tree/exercises/{CHAPTER}?token={TOKEN}")
    wait_until(lambda: browser.execute_script(KERNEL_JS),
               lambda s: s["kernel"] == "idle" and not s["dialog"],
               KERNEL_TIMEOUT_S, "the exercise edition to open")
    shown = wait_until(lambda: browser.execute_script(DETAILS_JS),
                       lambda d: len(d) == len(folded), WIDGET_TIMEOUT_S,
                       f"{len(folded)} folded solutions to render")
    summary = browser.find_elements(By.CSS_SELECTOR, ".jp-RenderedMarkdown details > summary")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
    browser.save_screenshot(str(artifacts / "edition-1-folded.png"))
    for view in shown:
        assert view["summary"] and not view["open"] and not view["visible"], (
            f"a solution is visible before the student asks for it: {view}")
    summary.click()
    opened = wait_until(lambda: browser.execute_script(DETAILS_JS)[0],
                        lambda v: v["open"] and v["visible"], WIDGET_TIMEOUT_S,
                        "the first solution to open after one click")
    browser.save_screenshot(str(artifacts / "edition-2-opened.png"))
    first = next(c for c in folded)
    assert opened["text"].strip().splitlines()[0] in first.source, opened
    others = browser.execute_script(DETAILS_JS)[1:]
    assert not any(v["open"] or v["visible"] for v in others), "one click opens one solution"
    print(f"{len(folded)} folded solutions in {CHAPTER}'s exercise edition; the first opened on "
          f"one click and shows {opened['text'][:60]!r}")


# ---------------------------------------------------------------------------------------------
# The rendered course


def test_rise_presents_a_chapter_in_jupyterlab(browser, jupyterlab, artifacts):
    browser.get(f"{jupyterlab}/rise/{CHAPTER}?token={TOKEN}")
    # jupyterlab-rise bundles reveal.js without a global Reveal: read the slides from the page.
    state = wait_until(lambda: browser.execute_script(
        "const present = document.querySelector('.reveal .slides section.present');"
        "return {slides: document.querySelectorAll('.reveal .slides section').length,"
        "        title: present ? present.innerText : ''};"),
        lambda s: s["slides"] > 10 and s["title"], KERNEL_TIMEOUT_S,
        "jupyterlab-rise to show chapter 02's slides")
    browser.save_screenshot(str(artifacts / "rise-02.png"))
    title = chapter_info(REPO / SOURCES / CHAPTER).title
    assert title.split(":")[0] in state["title"], state
    assert "google.colab" not in state["title"]  # the set-up cell is skipped
    print(f"jupyterlab-rise {version('jupyterlab-rise')} in JupyterLab {version('jupyterlab')}: "
          f"chapter 02 as {state['slides']} slide sections")
