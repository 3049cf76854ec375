"""Drive Airflow 3's Trigger form for the FactorLab DAG in headless Chromium (DevTools protocol), as a user would.

Opens every section of the form (a screenshot each), types an impossible start date (the form must refuse it: the
field is cleared and marked required, Trigger is disabled, no run is created), types good dates, adds horizon 10
from the multi-select and submits. Prints a JSON summary; exits 1 when a check fails. Used by live.sh.

    python trigger_form.py AIRFLOW_URL DAG_ID OUT_DIR DEVTOOLS_PORT START END

Needs `websocket-client` and a Chromium started with --remote-debugging-port on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.request
from pathlib import Path

import websocket

SECTIONS = ["Factors", "Universe and time", "Evaluation", "Advanced", "Advanced Options"]
IN_DIALOG = "[role=dialog] button, [role=dialog] div, [role=dialog] span"


class Page:
    def __init__(self, devtools_port: int) -> None:
        tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{devtools_port}/json"))
        tab = next(t for t in tabs if t["type"] == "page")
        self.ws = websocket.create_connection(tab["webSocketDebuggerUrl"], timeout=60)
        self.n = 0
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=2400, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                return msg.get("result", msg)

    def js(self, expr: str):
        res = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        return res.get("result", {}).get("value")

    def click_at(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def click_text(self, text: str, selector: str = "button") -> bool:
        """Click the last visible element matching `selector` whose text is exactly `text`."""
        pos = self.js(
            f"""(() => {{
              const els = [...document.querySelectorAll({json.dumps(selector)})]
                .filter(e => e.innerText && e.innerText.trim() === {json.dumps(text)} && e.getBoundingClientRect().width > 0);
              if (!els.length) return null;
              const e = els[els.length - 1];
              e.scrollIntoView({{block: 'center'}});
              const r = e.getBoundingClientRect();
              return [r.x + r.width / 2, r.y + r.height / 2];
            }})()"""
        )
        if pos:
            self.click_at(*pos)
        return bool(pos)

    def type_date(self, element_id: str, iso: str) -> str:
        """Click the month segment of a date input and type MMDDYYYY; return the input's value afterwards."""
        rect = self.js(f"(() => {{ const e = document.getElementById({json.dumps(element_id)}); e.scrollIntoView({{block: 'center'}});"
                       " const r = e.getBoundingClientRect(); return [r.x, r.y, r.height]; })()")
        self.click_at(rect[0] + 14, rect[1] + rect[2] / 2)
        time.sleep(0.3)
        year, month, day = iso.split("-")
        for ch in month + day + year:
            self.call("Input.dispatchKeyEvent", type="char", text=ch)
            time.sleep(0.05)
        time.sleep(0.5)
        return self.js(f"document.getElementById({json.dumps(element_id)}).value")

    def trigger_disabled(self) -> bool:
        return bool(self.js("[...document.querySelectorAll('[data-testid=trigger-dag-submit]')].some(b => b.disabled)"))

    def dialog_text(self) -> str:
        return self.js(
            "[...document.querySelectorAll('[role=dialog]')].map(d => d.innerText)"
            ".filter(t => t.startsWith('Trigger Dag')).join('')"
        ) or ""

    def screenshot(self, path: Path) -> None:
        bottom = self.js(
            "Math.ceil(Math.max(0, ...[...document.querySelectorAll('[role=dialog]')]"
            ".map(d => d.getBoundingClientRect().bottom)))"
        )
        clip = {"x": 250, "y": 0, "width": 900, "height": min(int(bottom or 1200) + 20, 2400), "scale": 1}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png", clip=clip)["data"]))


def main() -> int:
    base, dag_id, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    port, start, end = int(sys.argv[4]), sys.argv[5], sys.argv[6]
    out.mkdir(parents=True, exist_ok=True)
    page = Page(port)
    summary: dict = {"sections": {}, "checks": []}

    def runs() -> int:
        return json.load(urllib.request.urlopen(f"{base}/api/v2/dags/{dag_id}/dagRuns?limit=1"))["total_entries"]

    def check(what: str, passed: bool) -> None:
        summary["checks"].append({"check": what, "passed": passed})
        if not passed:
            summary.setdefault("error", what)

    def open_form() -> None:
        page.call("Page.navigate", url=f"{base}/dags/{dag_id}")
        time.sleep(5)
        assert page.click_text("Trigger"), "no Trigger button on the DAG page"
        time.sleep(2.5)

    # One section at a time: the form is an accordion that keeps a single section open.
    for i, name in enumerate(SECTIONS):
        open_form()
        page.click_text(name, IN_DIALOG)
        time.sleep(1.5)
        text = page.dialog_text()
        body = text[text.find(name) + len(name):]
        following = [s for s in SECTIONS[i + 1:] if s in body]
        if following:
            body = body[: body.find(following[0])]
        summary["sections"][name] = [line for line in body.splitlines() if line.strip() and line.strip() != "*"][:40]
        page.screenshot(out / f"trigger_form_{i + 1}_{name.replace(' ', '_').lower()}.png")
    fields = {"Factors": ["Factors from", "Factor codes", "Category", "Include drafts"],
              "Universe and time": ["Universes", "Frequencies", "Start", "End"],
              "Evaluation": ["Forward-return horizons (bars)", "Quantile groups", "Entry delay (bars)", "Top-N in the summary"],
              "Advanced": ["Factors per task", "Extra windows"]}
    for section, labels in fields.items():
        check(f"section {section} shows {labels}", all(label in summary["sections"][section] for label in labels))

    # An impossible date: the form refuses it before anything is sent.
    open_form()
    page.click_text("Universe and time", IN_DIALOG)
    time.sleep(1.2)
    before = runs()
    value = page.type_date("element_start_date", "2023-02-30")
    page.click_text("Evaluation", IN_DIALOG)  # leave the field, as a user moves on
    time.sleep(0.8)
    page.click_text("Universe and time", IN_DIALOG)
    time.sleep(1.2)
    refused = page.dialog_text()
    summary["refused"] = f"start date 02/30/2023 -> value {value!r}, " + (
        "'This field is required'" if "This field is required" in refused else "no message")
    check("the impossible date leaves the field empty", value == "")
    check("the form marks the field required", "This field is required" in refused)
    check("Trigger is disabled", page.trigger_disabled())
    page.screenshot(out / "trigger_form_6_bad_date_refused.png")
    page.click_text("Trigger", "[role=dialog] button")
    time.sleep(2)
    check("no run was created", runs() == before)

    # Good dates, horizon 10 added from the multi-select, submit.
    check("a good start date is taken", page.type_date("element_start_date", start) == start)
    check("a good end date is taken", page.type_date("element_end_date", end) == end)
    check("Trigger is enabled again", not page.trigger_disabled())
    page.click_text("Evaluation", IN_DIALOG)
    time.sleep(1.5)
    control = page.js(
        """(() => {
          let c = [...document.querySelectorAll('[role=dialog] span, [role=dialog] div')]
            .filter(e => e.innerText && e.innerText.trim() === '20' && e.getBoundingClientRect().width > 0).pop();
          for (let i = 0; i < 6 && c && c.getBoundingClientRect().width < 400; i++) c = c.parentElement;
          const r = c.getBoundingClientRect();
          return [r.right - 60, r.y + r.height / 2];
        })()"""
    )
    page.click_at(*control)
    time.sleep(1.2)
    option = page.js(
        """(() => {
          const o = [...document.querySelectorAll('[role=option]')]
            .filter(o => o.innerText.trim() === '10' && o.getBoundingClientRect().width > 0).pop();
          if (!o) return null;
          const r = o.getBoundingClientRect();
          return [r.x + r.width / 2, r.y + r.height / 2];
        })()"""
    )
    check("horizon 10 is offered in the multi-select", bool(option))
    if option:
        page.click_at(*option)
        time.sleep(1)
    page.click_text(page.dialog_text().splitlines()[0], "[role=dialog] h2, [role=dialog] div, [role=dialog] span")  # close the list
    time.sleep(0.8)
    page.screenshot(out / "trigger_form_7_before_submit.png")
    page.click_text("Trigger", "[role=dialog] button")
    time.sleep(3)
    check("the dialog closed on submit", not page.dialog_text())
    check("the submission created one run", runs() == before + 1)
    print(json.dumps(summary, indent=2))
    return 0 if "error" not in summary else 1


if __name__ == "__main__":
    sys.exit(main())
