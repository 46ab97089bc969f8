"""Print HTML reports to PDF with one long-lived headless chromium.

Launching chromium for every report (``--print-to-pdf``) costs 1 to 2 s each; one browser
kept open and driven over the DevTools protocol prints a report in about 0.3 s. The browser
talks through a pair of pipes (``--remote-debugging-pipe``: commands on fd 3, replies on
fd 4, each message JSON ending in a NUL byte), so no port is opened and nothing can connect
to it from outside. It is started on first use, once per process, and closed at exit; when
our process dies, the pipes close and chromium exits with it.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Flags for the Debian chromium (installed by scripts/install-system-deps.sh): headless,
#: no sandbox (root in CI), and nothing that phones home.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
#: A4 from the reports' print CSS (``@page``), backgrounds kept (table stripes, KPI cards).
PRINT_OPTIONS = {"printBackground": True, "preferCSSPageSize": True}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    """chromium failed, exited or did not answer in time."""


class Browser:
    """A headless chromium with one tab, driven over the DevTools pipe."""

    def __init__(self, executable: str | None = None, *, timeout: float = 60) -> None:
        self.executable = executable or chromium_path()
        if not self.executable:
            raise BrowserError("chromium is not installed")
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="segreport-chromium-")
        ours_to_child, self._out = os.pipe()
        self._in, child_to_ours = os.pipe()
        # chromium reads fd 3 and writes fd 4. The child's ends are first copied to 10 and
        # above, so that putting them on 3 and 4 cannot overwrite one with the other, and
        # bash does the placing (POSIX sh only knows descriptors 0-9): no Python runs
        # between fork and exec (``preexec_fn`` is unsafe once threads exist, and PDFs are
        # printed from a background thread).
        child_in = fcntl.fcntl(ours_to_child, fcntl.F_DUPFD, 10)
        child_out = fcntl.fcntl(child_to_ours, fcntl.F_DUPFD, 10)
        for fd in (ours_to_child, child_to_ours):
            os.close(fd)
        place = f'exec "$0" "$@" 3<&{child_in} 4>&{child_out} {child_in}<&- {child_out}>&-'
        try:
            self.proc = subprocess.Popen(  # noqa: S603  (our own fixed argument list)
                [
                    shutil.which("bash") or "/bin/bash",
                    "-c",
                    place,
                    self.executable,
                    *FLAGS,
                    "--remote-debugging-pipe",
                    f"--user-data-dir={self._profile}",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(child_in, child_out),
            )
        finally:
            os.close(child_in)
            os.close(child_out)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
            self.send("Page.enable", session=self.session)
            self._frame = self.send("Page.getFrameTree", session=self.session)["frameTree"][
                "frame"
            ]["id"]
        except BrowserError:
            self.close()
            raise

    # ---- protocol ------------------------------------------------------------------------
    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._in], [], [], max(left, 0))
            if not ready:
                raise BrowserError(f"chromium did not answer within {self.timeout:.0f} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError("chromium exited")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and return its result (events arriving meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._out, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"chromium exited ({exc})") from exc
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply)}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == self.session:
                    return self._events.pop(i)
            self._events.append(self._read(deadline))

    # ---- use -----------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def print_pdf(
        self, html: Path, pdf: Path, *, transform: Callable[[str], str] | None = None
    ) -> None:
        """Load ``html`` (a local, self-contained file) and write it as PDF to ``pdf``.

        The page's text is put into the open tab (``Page.setDocumentContent``) rather than
        navigated to: a navigation costs chromium about 0.1 s of CPU in every report (a
        tiny page prints in 0.04 s instead of 0.14 s), and our reports load nothing from
        their folder. The print waits for the load event, as after a navigation, so every
        image is decoded; the document's Content-Security-Policy still applies.
        """
        self._events.clear()
        content = Path(html).read_text(encoding="utf-8")
        if transform is not None:  # e.g. the appendix printed open
            content = transform(content)
        self.send(
            "Page.setDocumentContent",
            {"frameId": self._frame, "html": content},
            session=self.session,
        )
        self.wait_for("Page.loadEventFired")
        data = self.send("Page.printToPDF", PRINT_OPTIONS, session=self.session)["data"]
        Path(pdf).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(BrowserError):
                self.send("Browser.close")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self._in, self._out):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)


_browser: Browser | None = None


def shared_browser() -> Browser:
    """This process's browser, started on first use (and again if it died)."""
    global _browser  # noqa: PLW0603
    if _browser is None or not _browser.alive:
        if _browser is not None:
            _browser.close()
        _browser = Browser()
    return _browser


def close_shared_browser() -> None:
    global _browser  # noqa: PLW0603
    if _browser is not None:
        _browser.close()
        _browser = None


atexit.register(close_shared_browser)
