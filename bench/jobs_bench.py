"""Training jobs in the real app: throughput in the browser vs plain fit, Train → first batch, memory.

    python bench/jobs_bench.py [--repeats 3] [--no-ray | --only-ray | --presses | --two]

Needs the full MNIST (``CNN_DATA_DIR``, default ``../shared/datasets``) and Debian's Chromium.
Measured in one run, side by side, with the CPU named:

- live training in the browser (Train page, fast preset, 1 epoch of the full MNIST, trained by a
  worker process while the page polls it) vs plain ``model.fit`` of the same model in this process;
- time from pressing Train to the first batch on the page, with local workers and with a Ray cluster
  (started here on loopback);
- memory of the Streamlit server process (and of the workers) while two sessions train at once.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("CNN_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cnn import dataset_sources, run_config  # noqa: E402

from bench import plain_fit  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, free_port, running_app  # noqa: E402
from load_test import rss_mb  # noqa: E402

ROWS: list[tuple[str, str]] = []


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            flags = Path("/proc/cpuinfo").read_text()
            extra = "AMX" if "amx_bf16" in flags else ("AVX-512 BF16, no AMX" if "avx512_bf16" in flags else "no BF16")
            return f"{line.split(':', 1)[1].strip()} ({extra})"
    return "unknown CPU"


def idle(pg, timeout: float = 300_000) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


# Measured in the page: from the click on Train to the change of the page that shows the first batch (a mutation
# observer; the browser paints it in the next frame). Timing from the test's side would add Playwright's own
# polling and round trips to what the student sees.
PRESS_TO_FIRST_BATCH = """(button) => new Promise((resolve) => {
  let t0 = 0;
  const seen = () => /Epoch 1\\/\\d+ · batch \\d+/.test(document.body.innerText);
  const watch = new MutationObserver(() => {
    if (seen()) { watch.disconnect(); resolve((performance.now() - t0) / 1000); }
  });
  watch.observe(document.body, { subtree: true, childList: true, characterData: true });
  t0 = performance.now();
  button.click();
})"""


def train_in_browser(browser, url: str, query: str, read_s: float = 0.0) -> tuple[float, float]:
    """Press Train on a fresh session (``read_s`` after the page is drawn, as a student reads it first); (seconds
    from the press to the first batch shown, training seconds)."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(600_000)
    pg.goto(f"{url}/Train?{query}")
    idle(pg)
    pg.wait_for_timeout(read_s * 1000)
    button = pg.get_by_role("button", name="Train", exact=True).element_handle()
    first_batch = pg.evaluate(PRESS_TO_FIRST_BATCH, button)
    done = pg.get_by_text(re.compile(r"Finished \d+ epochs? in [\d.]+ s")).first
    done.wait_for()
    seconds = float(re.search(r"in ([\d.]+) s", done.inner_text()).group(1))
    ctx.close()
    return first_batch, seconds


# The same clock as PRESS_TO_FIRST_BATCH, left running on the page: several pages pressed at once, read later.
PRESS_AND_ARM = f"(button) => {{ window.firstBatch = ({PRESS_TO_FIRST_BATCH})(button); }}"


def two_students_at_once(browser, rounds: int = 3, read_s: float = 3.0) -> None:
    """Two students (or two tabs) with the same settings on a warm server, Train pressed on both at once, ``read_s``
    after their pages are drawn; each round after both runs ended: seconds from each press to its first live batch
    (a worker prepared for each when both slots are free)."""
    firsts = []
    with running_app(CNN_MAX_JOBS=str(os.cpu_count() or 1)) as app:  # as many slots as a real server has (cores)
        pages = []
        for _student in range(2):
            ctx = browser.new_context(viewport={"width": 1300, "height": 900})
            pg = ctx.new_page()
            pg.set_default_timeout(600_000)
            pages.append(pg)
        for pg in pages:
            pg.goto(f"{app['url']}/Train?arch=fast&epochs=1&limit=all&seed=1")
            idle(pg)
        pages[0].wait_for_timeout(10_000)  # a warm server: both workers have started
        for _ in range(rounds):
            for pg in pages:
                pg.reload()
                idle(pg)
            pages[0].wait_for_timeout(read_s * 1000)
            for pg in pages:
                pg.evaluate(PRESS_AND_ARM, pg.get_by_role("button", name="Train", exact=True).element_handle())
            firsts.append([pg.evaluate("window.firstBatch") for pg in pages])
            for pg in pages:
                pg.get_by_text(re.compile(r"Finished \d+ epochs? in [\d.]+ s")).first.wait_for()
                idle(pg)
            print(f"   both pressed: first batches {firsts[-1][0]:.2f} s and {firsts[-1][1]:.2f} s", flush=True)
        for pg in pages:
            pg.context.close()
    flat = [x for pair in firsts for x in pair]
    ROWS.append((f"Two students with the same settings press Train at once on a warm server, {read_s:.0f} s after "
                 "their pages are drawn → each one's first live batch (median, max)",
                 f"{statistics.median(flat):.2f} s, {max(flat):.2f} s (pairs "
                 f"{'; '.join(f'{a:.2f}, {b:.2f}' for a, b in firsts)})"))


def presses_in_a_row(browser, presses: int = 5, wait_s: float = 12.0, read_s: float = 2.0) -> None:
    """One page of a server just started, the same settings, Train pressed ``read_s`` after the page is drawn, then
    again ``wait_s`` after each run ended (a second try, a student reading the result first): seconds from each press
    to its first live batch."""
    with running_app() as app:
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(600_000)
        pg.goto(f"{app['url']}/Train?arch=fast&epochs=1&limit=all&seed=1")
        idle(pg)
        pg.wait_for_timeout(read_s * 1000)
        first = []
        for i in range(presses):
            button = pg.get_by_role("button", name="Train", exact=True).element_handle()
            first.append(pg.evaluate(PRESS_TO_FIRST_BATCH, button))
            pg.get_by_text(re.compile(r"Finished \d+ epochs? in [\d.]+ s")).first.wait_for()
            idle(pg)
            print(f"   press {i + 1}: first batch {first[-1]:.2f} s", flush=True)
            pg.wait_for_timeout(wait_s * 1000)
        ctx.close()
    ROWS.append((f"Train pressed {presses} times in a row on one page of a server just started, same settings, the "
                 f"first {read_s:.0f} s after the page is drawn, the others {wait_s:.0f} s after each run ended → "
                 "first live batch (median, max)",
                 f"{statistics.median(first):.2f} s, {max(first):.2f} s (presses "
                 f"{', '.join(f'{x:.2f}' for x in first)}; target ≤ 1 s each)"))


def child_rss_mb(pid: int) -> float:
    """Resident memory of a process's children (the training workers), in MB."""
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", text, re.M):
            total += rss_mb(int(status.parent.name))
    return total


def throughput_and_first_batch(browser, repeats: int) -> None:
    ds = dataset_sources.load_dataset("mnist")
    if ds.is_sample:
        sys.exit("The full MNIST is needed: put mnist.npz in CNN_DATA_DIR (default ../shared/datasets).")
    config = run_config.default_config("fast", "mnist", seed=1)
    n = len(ds.train_images)
    with running_app() as app:
        app_ips, plain_ips, first = [], [], []
        for _ in range(repeats):  # alternate, so machine noise hits both alike
            t, _, _ = plain_fit(config.resolved_spec(), ds, 1, config.batch_size, config.learning_rate,
                                dtype=config.dtype_policy())
            plain_ips.append(n / t)
            fb, seconds = train_in_browser(browser, app["url"], "arch=fast&epochs=1&limit=all&seed=1")
            app_ips.append(n / seconds)
            first.append(fb)
            print(f"   plain {n / t:,.0f} img/s · browser {n / seconds:,.0f} img/s · first batch {fb:.1f} s",
                  flush=True)
        ratio = statistics.median(app_ips) / statistics.median(plain_ips)
        ROWS.append(("live training in the browser vs plain model.fit (fast preset, full MNIST, images/s)",
                     f"{statistics.median(app_ips):,.0f} vs {statistics.median(plain_ips):,.0f} → {ratio:.1%} "
                     f"(target ≥ 95%)"))
        ROWS.append(("Train pressed → first batch on the page, local workers, the page pressed at once (median)",
                     f"{statistics.median(first):.1f} s (runs {', '.join(f'{x:.1f}' for x in first)})"))
        warm_first_batch(browser, app, repeats)
        memory_while_two_train(browser, app)


def warm_first_batch(browser, app: dict, repeats: int) -> None:
    """Train → first live batch with a free slot and warm workers (TensorFlow imported, the dataset held, the
    model the page shows built and traced while the student reads it: 2 s between the page and the press)."""
    first = [train_in_browser(browser, app["url"], "arch=fast&epochs=1&limit=all&seed=1", read_s=2.0)[0]
             for _ in range(repeats)]
    ROWS.append(("Train pressed → first live batch, warm workers, free slot, 2 s after the page is drawn (median)",
                 f"{statistics.median(first):.2f} s (runs {', '.join(f'{x:.2f}' for x in first)}; target ≤ 1 s)"))
    ROWS.append(("memory of the warm workers (idle, each holding MNIST and a prepared model)",
                 f"{child_rss_mb(app['pid']):.0f} MB for {os.cpu_count()} workers"))


def memory_while_two_train(browser, app: dict) -> None:
    before = rss_mb(app["pid"])
    peak = {"server": before, "workers": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            peak["server"] = max(peak["server"], rss_mb(app["pid"]))
            peak["workers"] = max(peak["workers"], child_rss_mb(app["pid"]))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Playwright's sync API is bound to its thread: start both runs from here, one page each.
    ctxs = [browser.new_context(viewport={"width": 1300, "height": 900}) for _ in range(2)]
    pages = [c.new_page() for c in ctxs]
    for i, pg in enumerate(pages):
        pg.set_default_timeout(600_000)
        pg.goto(f"{app['url']}/Train?arch=fast&epochs=2&limit=all&seed={i}")
        idle(pg)
    for pg in pages:
        pg.get_by_role("button", name="Train", exact=True).click()
    for pg in pages:
        pg.get_by_text(re.compile(r"Finished 2 epochs")).first.wait_for()
    stop.set()
    sampler.join()
    for c in ctxs:
        c.close()
    ROWS.append(("memory while 2 sessions train at once (full MNIST)",
                 f"server process {before:.0f} MB idle → {peak['server']:.0f} MB peak; the 2 worker processes "
                 f"{peak['workers']:.0f} MB together at peak"))


def ray_first_batch(browser, repeats: int) -> None:
    """Train → first batch with the app's cluster engine (Ray's driver in its own process), on a head started here
    in a process group of its own (stopped alone, never with ``ray stop``). The first press starts a Ray worker
    (cold); the next ones reuse it (warm)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        ROWS.append(("Train pressed → first batch, Ray cluster", "not measured: Ray is not installed"))
        return
    from ray_head import Head

    head = Head(free_port())
    head.start()
    try:
        with running_app(CNN_RAY_ADDRESS=f"127.0.0.1:{head.port}") as app:
            ctx = browser.new_context()
            pg = ctx.new_page()
            deadline = time.monotonic() + 90
            while True:  # the first page starts the engine; wait until it has connected
                pg.goto(app["url"])
                idle(pg)
                if "Connecting to the training cluster" not in pg.inner_text("body") or time.monotonic() > deadline:
                    break
                pg.wait_for_timeout(2000)
            ctx.close()
            first = [train_in_browser(browser, app["url"], "arch=fast&epochs=1&limit=all&seed=1")[0]
                     for _ in range(repeats)]
        ROWS.append(("Train pressed → first batch on the page, Ray cluster on loopback, cold (first press)",
                     f"{first[0]:.1f} s (starting a Ray worker and shipping the cnn package)"))
        if len(first) > 1:
            ROWS.append(("Train pressed → first batch on the page, Ray cluster on loopback, warm (median of the rest)",
                         f"{statistics.median(first[1:]):.1f} s (runs {', '.join(f'{x:.1f}' for x in first[1:])})"))
    finally:
        head.stop()


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-ray", action="store_true")
    p.add_argument("--only-ray", action="store_true", help="only Train → first batch on a Ray cluster")
    p.add_argument("--presses", action="store_true", help="only Train pressed 5 times in a row on one page")
    p.add_argument("--two", action="store_true", help="only two students pressing Train at once, same settings")
    p.add_argument("--first-read", type=float, default=2.0,
                   help="seconds between a page and the first press of --presses (a fresh server's) or --two")
    args = p.parse_args()
    import tensorflow as tf

    started = time.perf_counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.presses:
            presses_in_a_row(browser, read_s=args.first_read)
        elif args.two:
            two_students_at_once(browser, rounds=args.repeats, read_s=args.first_read)
        elif not args.only_ray:
            throughput_and_first_batch(browser, args.repeats)
        if not args.no_ray and not args.presses and not args.two:
            ray_first_batch(browser, args.repeats)
        browser.close()
    print(f"\nCNN Lab jobs benchmark · {cpu_name()} · {os.cpu_count()} cores · TensorFlow {tf.__version__} · "
          f"{time.strftime('%Y-%m-%d')} · {time.perf_counter() - started:.0f} s\n")
    print("| measured | result |\n|---|---|")
    for name, value in ROWS:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
