"""A small WebDriver BiDi client for Debian's Firefox ESR, enough to drive a review page from file://.

Playwright's own Firefox over BiDi (channel ``moz-firefox``) cannot drive Firefox ESR 153: on every new
context it sends ``emulation.setMediaFeaturesOverride``, which that Firefox does not know. So the test
starts Firefox itself, headless, in a fresh profile whose prefs save every download into one folder,
with ``--remote-debugging-port=0``, and speaks the W3C WebDriver BiDi protocol over the websocket
Firefox prints. Clicks and typing are real input events (``input.performActions``), not scripted
property changes; the file Firefox saves is the one read back.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
WAIT = 60.0  # seconds to wait for Firefox to start or a download to finish, not a measured limit
_LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")
_CONTROL = "\ue009"
_BACKSPACE = "\ue003"
_PREFS = {
    "browser.download.dir": None,  # set per profile
    "browser.download.folderList": 2,
    "browser.download.useDownloadDir": True,
    "browser.download.always_ask_before_handling_new_types": False,
    "browser.download.alwaysOpenPanel": False,
    "browser.download.open_pdf_attachments_inline": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.proxy.type": 0,
}


class BiDiError(AssertionError):
    """Firefox answered a command with an error, or did not answer in time."""


class Firefox:
    """One headless Firefox and its BiDi session; ``events`` keeps every event received, in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        self._ws.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=WAIT))
            if message.get("id") == self._next:
                if message.get("type") == "error":
                    raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
                return dict(message["result"])
            if message.get("type") == "event":
                self.events.append(message)

    def wait_event(self, method: str, seen: int = 0) -> dict[str, Any]:
        """The first event ``method`` at or after position ``seen`` of :attr:`events`, waiting for it."""
        deadline = time.monotonic() + WAIT
        while True:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return dict(event["params"])
            try:
                message = json.loads(self._ws.recv(timeout=max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                raise BiDiError(f"no {method} event came within {WAIT:g} s") from None
            if message.get("type") == "event":
                self.events.append(message)

    def open(self, url: str) -> str:
        """Load ``url`` in the first tab (1200×1600, as the screenshots) and return the tab's context id."""
        context = str(self.send("browsingContext.getTree")["contexts"][0]["context"])
        self.send("browsingContext.setViewport", context=context, viewport={"width": 1200, "height": 1600})
        self.send("browsingContext.navigate", context=context, url=url, wait="complete")
        return context

    def evaluate(self, context: str, expression: str) -> Any:
        got = self.send("script.evaluate", expression=expression, target={"context": context}, awaitPromise=True)
        if got.get("type") != "success":
            raise BiDiError(f"script error: {got.get('exceptionDetails', {}).get('text')}")
        return got["result"].get("value")

    def element(self, context: str, css: str) -> dict[str, str]:
        nodes = self.send("browsingContext.locateNodes", context=context, locator={"type": "css", "value": css})[
            "nodes"
        ]
        if len(nodes) != 1:
            raise BiDiError(f"{css!r} matches {len(nodes)} elements, expected one")
        return {"sharedId": nodes[0]["sharedId"]}

    def click(self, context: str, css: str) -> None:
        """A real mouse click in the middle of the element (scrolled into view first)."""
        self.evaluate(context, f"document.querySelector({json.dumps(css)}).scrollIntoView({{block: 'center'}})")
        target = self.element(context, css)
        pointer = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": {"type": "element", "element": target}},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self.send(
            "input.performActions",
            context=context,
            actions=[{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": pointer}],
        )

    def type_into(self, context: str, css: str, text: str) -> None:
        """Click the field, select what it holds, delete it and type ``text`` key by key."""
        self.click(context, css)
        keys = [
            {"type": "keyDown", "value": _CONTROL},
            {"type": "keyDown", "value": "a"},
            {"type": "keyUp", "value": "a"},
            {"type": "keyUp", "value": _CONTROL},
            {"type": "keyDown", "value": _BACKSPACE},
            {"type": "keyUp", "value": _BACKSPACE},
        ]
        for char in text:
            keys += [{"type": "keyDown", "value": char}, {"type": "keyUp", "value": char}]
        self.send("input.performActions", context=context, actions=[{"type": "key", "id": "keyboard", "actions": keys}])
        self.send("input.releaseActions", context=context)


def _write_profile(profile: Path, downloads: Path) -> None:
    prefs = dict(_PREFS, **{"browser.download.dir": str(downloads)})
    lines = [f"user_pref({json.dumps(name)}, {json.dumps(value)});" for name, value in prefs.items()]
    (profile / "user.js").write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def firefox(profile: Path, downloads: Path, executable: str = FIREFOX) -> Iterator[Firefox]:
    """Start a headless Firefox on a fresh ``profile`` saving downloads into ``downloads``; stop it after."""
    profile.mkdir(parents=True, exist_ok=True)
    downloads.mkdir(parents=True, exist_ok=True)
    _write_profile(profile, downloads)
    process = subprocess.Popen(
        [
            executable,
            "--headless",
            "--no-remote",
            "--profile",
            str(profile),
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(profile), "MOZ_CRASHREPORTER_DISABLE": "1"},
    )
    try:
        url = _listening(process)
        with connect(url + "/session", max_size=None, open_timeout=WAIT, proxy=None) as ws:  # never a proxy
            browser = Firefox(ws)
            browser.send("session.new", capabilities={})
            try:
                yield browser
            finally:
                with suppress(BiDiError, OSError, TimeoutError, ConnectionClosed):
                    browser.send("browser.close")
    finally:
        try:
            process.wait(timeout=10)  # it exits within a second of browser.close; else (a failed start) it is killed
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening(process: subprocess.Popen[str]) -> str:
    """The websocket address Firefox prints on stderr (read, to the end, by a thread so Firefox never blocks)."""
    found: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            listening = _LISTENING.search(line)
            if listening:
                found.put(listening.group(1))
        found.put(None)

    seen: list[str] = []
    threading.Thread(target=read, daemon=True).start()
    try:
        url = found.get(timeout=WAIT)
    except queue.Empty:
        url = None
    if url is None:
        raise BiDiError("Firefox did not listen for WebDriver BiDi: " + "".join(seen[-5:]).strip())
    return url
