"""Headless browser start-up and page operations.

With Selenium: webdriver.Chrome() construction (starts chromedriver and a
headless Chromium) + quit, driver.get() of a small local file:// page,
find_element and execute_script on the loaded page. With Playwright (when
installed): sync_playwright() start/stop and chromium.launch() + close.
Uses the system Chromium and ChromeDriver (Debian packages chromium and
chromium-driver); skipped with a message when they or the Python packages
are missing. Nothing is fetched from the network: the page is a local file.
"""

import os
import shutil
import tempfile
from pathlib import Path

from _common import scratch_dir, skip, summary, time_calls, version_of, write_results

PAGE = """<!doctype html><html><head><title>calibration</title></head><body>
<h1 id="title">Orders</h1><ul>""" + "".join(
    f'<li class="order" data-id="{i}">Order {i}</li>' for i in range(50)) + """</ul>
<form><input id="q" name="q"><button id="go" type="button">Go</button></form>
</body></html>"""

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-default-apps", "--disable-extensions"]


def find(*names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def main() -> None:
    chromium = find("chromium", "chromium-browser", "google-chrome")
    chromedriver = find("chromedriver")
    if chromium is None:
        skip(__file__, "no chromium binary on PATH (apt-get install chromium chromium-driver)")
    rows = []
    notes = []
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
    with scratch_dir() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(PAGE)
        url = page.as_uri()
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
            from selenium.webdriver.common.by import By
        except ImportError:
            webdriver = None
            notes.append("selenium not installed")
        if webdriver is not None and chromedriver is None:
            notes.append("chromedriver missing: selenium skipped")
        elif webdriver is not None:
            def make_driver():
                opts = webdriver.ChromeOptions()
                opts.binary_location = chromium
                for f in FLAGS:
                    opts.add_argument(f)
                opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp)}")
                return webdriver.Chrome(options=opts, service=Service(executable_path=chromedriver))

            starts, quits = [], []
            import time
            for i in range(6):
                t0 = time.perf_counter()
                d = make_driver()
                t1 = time.perf_counter()
                d.quit()
                t2 = time.perf_counter()
                if i:  # first run warms the page cache
                    starts.append((t1 - t0) * 1000)
                    quits.append((t2 - t1) * 1000)
            rows.append(summary("selenium webdriver.Chrome() start (headless)", starts))
            rows.append(summary("selenium WebDriver.quit()", quits))

            driver = make_driver()
            try:
                rows.append(summary("selenium WebDriver.get (local file page)",
                                    time_calls(lambda: driver.get(url), 30)))
                rows.append(summary("selenium WebDriver.find_element(By.ID)",
                                    time_calls(lambda: driver.find_element(By.ID, "title"), 100)))
                rows.append(summary("selenium WebDriver.find_elements (50 matches)",
                                    time_calls(lambda: driver.find_elements(By.CSS_SELECTOR,
                                                                            "li.order"), 50)))
                rows.append(summary("selenium WebDriver.execute_script",
                                    time_calls(lambda: driver.execute_script(
                                        "return document.title"), 100)))
            finally:
                driver.quit()

        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            sync_playwright = None
            notes.append("playwright not installed")
        if sync_playwright is not None:
            import time
            pw_start, pw_launch = [], []
            try:
                for i in range(6):
                    t0 = time.perf_counter()
                    pw = sync_playwright().start()
                    t1 = time.perf_counter()
                    browser = pw.chromium.launch(executable_path=chromium, args=FLAGS[1:])
                    pg = browser.new_page()
                    pg.goto(url)
                    t2 = time.perf_counter()
                    browser.close()
                    pw.stop()
                    if i:
                        pw_start.append((t1 - t0) * 1000)
                        pw_launch.append((t2 - t1) * 1000)
                rows.append(summary("playwright sync_playwright().start()", pw_start))
                rows.append(summary("playwright chromium.launch + new_page + goto", pw_launch))
            except Exception as exc:  # keep the selenium figures
                notes.append(f"playwright failed: {type(exc).__name__}: {str(exc)[:200]}")
    if not rows:
        skip(__file__, "; ".join(notes) or "nothing measured")
    write_results(__file__, rows, notes="; ".join(notes),
                  versions={"selenium": version_of("selenium"),
                            "playwright": version_of("playwright")})


if __name__ == "__main__":
    main()
