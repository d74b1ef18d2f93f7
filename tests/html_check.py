#!/usr/bin/env python3
"""Opens a keysweep HTML report in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download) and prints what the page shows as one JSON object.

    html_check.py REPORT.html [--screenshot PNG] [--owner OWNER] [--text TEXT]

Output: console errors and page errors, every request the page made, the totals and the
summary charts' bars ({dimension: {value: count}}), the "N of M findings" line, and, after
selecting OWNER in the owner filter, the line and the fingerprints of every matching row
(all pages); the same for TEXT typed into the search box. Timings (ms) are measured, never
judged: tests/html.rs asserts facts, benches/html.sh reports the timings.
"""

import argparse
import json
import os
import sys
import time

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("KEYSWEEP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

# Runs the change in the page and waits for the next frame to be painted, so the figure covers
# filtering, rendering and layout.
TIMED_CHANGE = """async ([selector, value, event]) => {
  const t0 = performance.now();
  const node = document.querySelector(selector);
  node.value = value;
  node.dispatchEvent(new Event(event, { bubbles: true }));
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return performance.now() - t0;
}"""

SUMMARY = """() => {
  const charts = {};
  for (const chart of document.querySelectorAll('#charts .chart')) {
    const bars = {};
    for (const bar of chart.querySelectorAll('g.bar')) {
      bars[bar.querySelector('text.label title, title').textContent.replace(/: \\d+$/, '')] =
        Number(bar.querySelector('text.count').textContent);
    }
    charts[chart.dataset.dimension] = bars;
  }
  const totals = {};
  for (const total of document.querySelectorAll('#totals .total')) {
    totals[total.dataset.total] = Number(total.querySelector('.value').textContent);
  }
  return { charts, totals };
}"""


def all_fingerprints(page):
    """Every row's fingerprint across the pages of the current filter."""
    found = []
    while True:
        found += page.eval_on_selector_all(
            "#rows tr.finding", "rows => rows.map(r => r.dataset.fingerprint)")
        if page.is_disabled("#page-next"):
            return found
        page.click("#page-next")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--screenshot")
    parser.add_argument("--owner")
    parser.add_argument("--text")
    args = parser.parse_args()

    result = {"console_errors": [], "page_errors": [], "requests": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: m.type == "error" and result["console_errors"].append(m.text))
        page.on("pageerror", lambda e: result["page_errors"].append(str(e)))
        page.on("request", lambda r: result["requests"].append(r.url))
        url = "file://" + os.path.abspath(args.report)
        started = time.perf_counter()
        page.goto(url, wait_until="load")
        page.wait_for_selector("body[data-ready=true]", timeout=30000)
        result["open_ms"] = (time.perf_counter() - started) * 1000
        # From navigation start to the first painted frame, and the renderer's own time.
        marks = page.evaluate("""() => Object.fromEntries(performance.getEntriesByType('mark')
            .map((m) => [m.name, m.startTime]))""")
        result["painted_ms"] = marks["keysweep-painted"]
        result["script_ms"] = marks["keysweep-ready"] - marks["keysweep-start"]
        result.update(page.evaluate(SUMMARY))
        result["match_count"] = page.text_content("#match-count")
        result["rows_on_first_page"] = page.eval_on_selector_all("#rows tr.finding", "r => r.length")

        # Expands the first row, as a responder would, and keeps its text.
        if result["rows_on_first_page"]:
            page.click("#rows tr.finding")
            result["first_detail"] = page.text_content("#rows tr.detail-row")

        if args.screenshot:
            page.screenshot(path=args.screenshot, full_page=True)

        if args.owner is not None:
            result["owner_filter_ms"] = page.evaluate(
                TIMED_CHANGE, ["#filter-owner", args.owner, "change"])
            result["owner_match_count"] = page.text_content("#match-count")
            result["owner_fingerprints"] = all_fingerprints(page)
            page.click("#filter-clear")
        if args.text is not None:
            result["text_filter_ms"] = page.evaluate(
                TIMED_CHANGE, ["#filter-text", args.text, "input"])
            result["text_match_count"] = page.text_content("#match-count")
            result["text_fingerprints"] = all_fingerprints(page)
        browser.close()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
