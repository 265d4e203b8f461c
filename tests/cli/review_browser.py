"""Drives the review page in headless Chromium over the DevTools protocol.

Loads the page, checks that it shows two titles and two loaded images, optionally saves a
screenshot, presses "y" and waits until the page reports the verdict saved. Prints
{"a": id, "b": id, "titles": [...], "marks": n} of the judged pair.

Needs Python 3 with websocket-client (Debian: python3-websocket, which scripts/install-deps.sh
installs).

usage: python3 review_browser.py DEVTOOLS_PORT PAGE_URL [SCREENSHOT]
"""
import base64
import itertools
import json
import sys
import time
import urllib.request

import websocket


def fail(message):
    print("review_browser: " + message, file=sys.stderr)
    sys.exit(1)


def page_target(devtools_port):
    """A new blank tab's DevTools description, waiting for Chromium to start listening."""
    url = f"http://127.0.0.1:{devtools_port}/json/new?about:blank"
    for _ in range(100):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="PUT"), timeout=5) as r:
                return json.load(r)
        except OSError:  # chromium still starting
            time.sleep(0.1)
    fail(f"no DevTools endpoint on port {devtools_port}")


class DevTools:
    """Commands over one tab's DevTools WebSocket; events in between are ignored."""

    def __init__(self, websocket_url):
        # Chromium refuses DevTools connections that send an Origin it was not told to allow.
        self.socket = websocket.create_connection(websocket_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)

    def send(self, method, **params):
        id = next(self.ids)
        self.socket.send(json.dumps({"id": id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") != id:
                continue
            if "error" in message:
                fail(f"{method} failed: {json.dumps(message['error'])}")
            return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            fail("page script failed: " + json.dumps(result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, what):
        for _ in range(200):
            if self.evaluate(expression):
                return
            time.sleep(0.1)
        state = self.evaluate("document.body.dataset.state + ' / ' + "
                              "document.getElementById('message').textContent")
        fail(f"timed out waiting for {what}; page state: {state}")


def main():
    if len(sys.argv) not in (3, 4):
        fail("usage: review_browser.py DEVTOOLS_PORT PAGE_URL [SCREENSHOT]")
    devtools_port, page_url = sys.argv[1:3]
    screenshot = sys.argv[3] if len(sys.argv) == 4 else None
    tab = DevTools(page_target(devtools_port)["webSocketDebuggerUrl"])
    tab.send("Page.enable")
    tab.send("Emulation.setDeviceMetricsOverride", width=1100, height=760, deviceScaleFactor=1,
             mobile=False)
    tab.send("Page.navigate", url=page_url)
    tab.wait_for("document.readyState === 'complete' && document.body.dataset.state === 'ready'",
                 "a pair to review")
    tab.wait_for("[...document.querySelectorAll('.listing img')]"
                 ".every((img) => img.complete && img.naturalWidth > 0)", "images to load")
    shown = tab.evaluate("""({
      titles: [...document.querySelectorAll('.listing h2')].map((h) => h.textContent.trim()),
      images: [...document.querySelectorAll('.listing img')]
                .filter((img) => img.naturalWidth > 0).length,
      marks: document.querySelectorAll('mark.diff').length,
      ids: [...document.querySelectorAll('.listing .meta')]
             .map((m) => m.textContent.split(' · ')[0].slice(3)),
    })""")
    if len(shown["titles"]) != 2 or not all(shown["titles"]):
        fail("expected two titles, got " + json.dumps(shown["titles"]))
    if shown["images"] != 2:
        fail(f"expected two loaded images, got {shown['images']}")
    if screenshot:
        data = tab.send("Page.captureScreenshot", format="png")["data"]
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(data))
    tab.send("Input.dispatchKeyEvent", type="keyDown", key="y", code="KeyY", text="y",
             windowsVirtualKeyCode=89)
    tab.send("Input.dispatchKeyEvent", type="keyUp", key="y", code="KeyY",
             windowsVirtualKeyCode=89)
    tab.wait_for("document.body.dataset.saved === '1'", "the verdict to be saved")
    print(json.dumps({"a": shown["ids"][0], "b": shown["ids"][1], "titles": shown["titles"],
                      "marks": shown["marks"]}))


if __name__ == "__main__":
    main()
