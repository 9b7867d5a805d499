"""The loss explorer in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium driven by Playwright.

Opens notebooks/00_loss_explorer.ipynb, runs every cell, picks a data set in the widget, checks the
loss list in the DOM, starts a training run with the defaults and waits for the live loss curve, the
results and the per-format picture, then compares two losses and waits for their table and pictures;
a screenshot is always saved to tests/artifacts/. The test starts and stops its own
server and browser. It needs /usr/bin/chromium (``apt-get install chromium``) and ``playwright``
(pip; never ``playwright install``): without them it is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
KERNEL_READY = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const context = widget && widget.sessionContext;
  const kernel = context && context.session && context.session.kernel;
  return Boolean(
    context && context.isReady && kernel && kernel.connectionStatus === "connected" && kernel.status === "idle"
  );
}"""
ALL_CELLS_RAN = """() => {
  const notebook = window.jupyterapp.shell.currentWidget;
  const kernel = notebook.sessionContext.session.kernel;
  const cells = notebook.content.widgets.filter(cell => cell.model.type === "code");
  return kernel.status === "idle" && cells.every(cell => cell.model.executionCount !== null);
}"""


def _requirements_or_skip():
    missing = []
    if not CHROMIUM.exists():
        missing.append("Debian's chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail("The browser test must run in CI but lacks: " + ", ".join(missing))
        pytest.skip("needs " + ", ".join(missing))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A throwaway JupyterLab server on 127.0.0.1 serving a copy of the notebooks; stopped by PID afterwards."""
    _requirements_or_skip()
    root = tmp_path / "root"
    shutil.copytree(ROOT / "notebooks", root)
    home = tmp_path / "jupyter"
    settings = home / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    (settings / "docmanager-extension").mkdir(parents=True)
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MPLBACKEND", None)
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LanguageServerManager.autodetect=False",
            "--LabApp.expose_app_in_browser=True",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("JupyterLab did not start: " + (tmp_path / "jupyterlab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base, token, tmp_path
    finally:
        try:
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=5)
            server.wait(timeout=15)
        except Exception:  # the server may already be gone; the process group is stopped below either way
            pass
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        log.close()


def _launch(playwright, tmp_path, *, height: int):
    """Debian's Chromium, headless, with a fresh profile in the test's folder."""
    return playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": height},
    )


def _run_every_cell(page) -> None:
    """Once the kernel is ready: clear the outputs, Run All, wait until every code cell ran, and see no traceback."""
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_selector(".jp-InputPrompt:has-text('[1]')", timeout=20_000)
    except Exception:  # a Run All sent before the kernel connected is lost: retry once
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_CELLS_RAN, timeout=240_000, polling=500)
    assert "Traceback (most recent call last)" not in page.inner_text(".jp-Notebook")


@pytest.mark.slow
def test_explorer_in_a_real_browser(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token, tmp_path = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "loss_explorer.png"
    with sync_playwright() as p:
        browser = _launch(p, tmp_path, height=3_400)
        page = browser.new_page()
        try:
            page.goto(f"{base}/lab/tree/00_loss_explorer.ipynb?token={token}&reset")
            _run_every_cell(page)

            page.select_option(".lb-data select", "paws")
            # The list is refilled by the kernel; wait for the paws format (binary pairs) to arrive.
            page.wait_for_function(
                "() => document.querySelector('.lb-format').innerText.includes('pair-binary')", timeout=60_000
            )
            # The format text can name pair-binary before (as an alternative of the last data set's format): wait
            # for the kernel to refill the loss list as well.
            page.wait_for_function(
                "() => [...document.querySelectorAll('.lb-losses select option')].some(o => o.innerText === "
                "'ContrastiveLoss')",
                timeout=120_000,
            )
            offered = [o.inner_text() for o in page.query_selector_all(".lb-losses select option")]
            assert offered == ["ContrastiveLoss", "OnlineContrastiveLoss"]
            page.select_option(".lb-losses select", "ContrastiveLoss")
            page.wait_for_function(
                "() => document.querySelector('.lb-plan').innerText.includes('per step')", timeout=120_000
            )
            before_src = page.get_attribute("img.lb-live", "src")
            page.click("button.lb-train")
            # The notebook's own demo run already filled the results; wait for this run's
            # (PAWS: AP on held-out pairs).
            page.wait_for_function(
                "(old) => { const img = document.querySelector('img.lb-live'); "
                "return img.src && img.src !== old && img.naturalWidth > 0; }",
                arg=before_src,
                timeout=180_000,
            )
            page.wait_for_function(
                "() => document.querySelector('.lb-message').innerText.includes('Run completed')", timeout=240_000
            )
            page.wait_for_function(
                "() => document.querySelector('.lb-results').innerText.includes('held-out')", timeout=60_000
            )
            text = page.inner_text(".lb-explorer")
            assert "Traceback" not in text and "Error" not in page.inner_text(".lb-message")
            assert "before" in page.inner_text(".lb-results") and "spread" in page.inner_text(".lb-results")
            assert page.get_attribute("img.lb-projection", "src")  # the 1/0 pairs' similarity histograms

            # Losses side by side: two losses of the same data, on the same rows, steps and seeds.
            page.select_option(".lb-compare-choice select", ["ContrastiveLoss", "OnlineContrastiveLoss"])
            page.click("button.lb-compare")
            page.wait_for_function(
                "() => document.querySelector('.lb-message').innerText.includes('Compared 2 losses')",
                timeout=240_000,
            )
            table = page.inner_text(".lb-compare-results")
            assert "ContrastiveLoss" in table and "OnlineContrastiveLoss" in table and "±" in table
            page.wait_for_function(
                "() => [...document.querySelectorAll('.lb-compare-plots img')].filter(i => i.naturalWidth > 0)"
                ".length === 2",
                timeout=60_000,
            )
            assert "Error" not in page.inner_text(".lb-message")
        finally:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab.png"))
            page.locator(".lb-explorer").screenshot(path=str(screenshot))
            browser.close()
    assert screenshot.stat().st_size > 10_000


@pytest.mark.slow
def test_loss_anatomy_in_a_real_browser(jupyterlab):
    """Notebook 10's app: a slider moved in the page and the Step button redraw the picture."""
    from playwright.sync_api import sync_playwright

    base, token, tmp_path = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    new_picture = (
        "(old) => { const img = document.querySelector('img.lb-anatomy-plot'); "
        "return img && img.src && img.src !== old && img.naturalWidth > 0; }"
    )
    with sync_playwright() as p:
        browser = _launch(p, tmp_path, height=2_400)
        page = browser.new_page()
        try:
            page.goto(f"{base}/lab/tree/10_loss_anatomy.ipynb?token={token}&reset")
            _run_every_cell(page)
            # The notebook's last cells left the app on CoSENTLoss, scale 5, after 6 steps.
            page.wait_for_selector("img.lb-anatomy-plot", timeout=30_000)
            app = page.locator(".lb-anatomy").first
            app.scroll_into_view_if_needed()
            assert "CoSENTLoss" in page.inner_text(".lb-anatomy-loss")

            # Move the scale slider: type into its readout, as a person can, then wait for the redraw.
            picture = page.get_attribute("img.lb-anatomy-plot", "src")
            info = page.inner_text(".lb-anatomy-info")  # holds the loss value, which the scale changes
            readout = page.locator(".lb-anatomy-option-scale .widget-readout")
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type("30")
            page.keyboard.press("Enter")
            page.wait_for_function(new_picture, arg=picture, timeout=30_000)
            page.wait_for_function(
                "(old) => document.querySelector('.lb-anatomy-info').innerText !== old", arg=info, timeout=30_000
            )
            assert readout.inner_text().strip().startswith("30")

            # Step: one gradient step, the picture redrawn and the step counted.
            picture = page.get_attribute("img.lb-anatomy-plot", "src")
            page.click("button.lb-anatomy-step")
            page.wait_for_function(new_picture, arg=picture, timeout=30_000)
            assert page.inner_text(".lb-anatomy-message").strip() == ""
        finally:
            page.locator(".lb-anatomy").first.screenshot(path=str(ARTIFACTS / "loss_anatomy.png"))
            browser.close()
