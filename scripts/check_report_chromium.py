#!/usr/bin/env python
"""Open a seqshap HTML report in headless Chromium and check it.

    python scripts/check_report_chromium.py report.html [--screenshot shot.png] [--hostile TEXT]

Checks: no console message at all (errors, CSP violations, uncaught exceptions, logs); the page
finished (a blocking ``alert()`` dialog would hang it); every plot rendered (the report's own
script counts them); no inline event handler, foreign script, frame or remote resource in the
DOM; each ``--hostile`` string present as plain text. Exit status 1 with one line per problem.
Needs Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
)
_REMOTE_ATTRS = {"src", "href", "action", "poster", "data", "formaction", "srcset", "background"}


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(path: Path, extra: list[str], timeout: float) -> tuple[str, str]:
    """(stdout, stderr) of one headless run on ``path``, with a fresh profile."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found; install it with: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="seqshap-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *extra, path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.stdout, proc.stderr


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.problems: list[str] = []
        self.scripts = 0
        self.html_attrs: dict[str, str] = {}
        self.body_attrs: dict[str, str] = {}
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        handlers = [k for k in a if k.startswith("on")]
        if handlers:
            self.problems.append(f"<{tag}> carries inline event handler(s) {handlers}")
        if tag == "script":
            self.scripts += 1
            self._in_script = True
            if "src" in a:
                self.problems.append(f"external script {a['src']!r}")
        if tag in {"iframe", "object", "embed", "frame", "link", "base"}:
            self.problems.append(f"unexpected <{tag}> element")
        if tag == "img" and not a.get("src", "").startswith("data:"):
            self.problems.append(f"<img> with a non-inline src {a.get('src')!r}")
        for k, v in a.items():
            if k in _REMOTE_ATTRS or k.endswith(":href"):
                if v.strip().lower().startswith(("http:", "https:", "//", "ftp:", "javascript:")):
                    self.problems.append(f"<{tag} {k}={v!r}> points outside the file")
        if tag == "html":
            self.html_attrs = a
        if tag == "body":
            self.body_attrs = a

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def check_report(
    path: str | Path,
    *,
    hostile: tuple[str, ...] = (),
    screenshot: str | Path | None = None,
    window: tuple[int, int] = (1366, 900),
    timeout: float = 60.0,
) -> list[str]:
    """Problems found when Chromium opens ``path`` (empty list: all good)."""
    path = Path(path)
    problems: list[str] = []
    source = path.read_text(encoding="utf-8")
    lowered = source.lower()
    for needle in ("@import", "url(http", "url(//"):
        if needle in lowered:
            problems.append(f"the file contains {needle!r}: a network request")
    try:
        dom, log = run_chromium(
            path, ["--dump-dom", f"--window-size={window[0]},{window[1]}"], timeout
        )
    except subprocess.TimeoutExpired:
        return [f"chromium did not finish in {timeout:.0f}s (a blocking alert() dialog?)"]
    console = [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    problems += [f"console: {line.split('] ', 1)[-1]}" for line in console]
    parser = _Dom()
    parser.feed(dom)
    problems += parser.problems
    if parser.scripts != 1:
        problems.append(f"{parser.scripts} <script> elements in the DOM; the report has exactly 1")
    body = parser.body_attrs
    if body.get("data-ready") != "1":
        problems.append("the report's script did not finish (data-ready missing)")
    expected, rendered = body.get("data-plots-expected"), body.get("data-plots-rendered")
    if not expected or expected != rendered or expected == "0":
        problems.append(f"plots rendered {rendered} of {expected}")
    if parser.html_attrs.get("data-errors", "0") != "0":
        problems.append(
            f"{parser.html_attrs['data-errors']} JavaScript error(s) caught by the page"
        )
    text = "".join(parser.text)
    for s in hostile:
        if s not in text:
            problems.append(f"hostile string {s!r} is not shown as text")
    if screenshot is not None:
        try:
            _, log2 = run_chromium(
                path,
                [
                    f"--screenshot={Path(screenshot).resolve()}",
                    f"--window-size={window[0]},{window[1]}",
                ],
                timeout,
            )
        except subprocess.TimeoutExpired:
            problems.append("screenshot run did not finish")
        else:
            if not Path(screenshot).exists() or Path(screenshot).stat().st_size < 5000:
                problems.append("screenshot missing or empty")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--screenshot", type=Path)
    ap.add_argument("--hostile", action="append", default=[])
    args = ap.parse_args(argv)
    problems = check_report(args.report, hostile=tuple(args.hostile), screenshot=args.screenshot)
    for p in problems:
        print(f"PROBLEM: {p}")
    if not problems:
        print(f"OK: {args.report}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
