// Drives the review page in headless Chromium over the DevTools protocol (Node's built-in
// WebSocket; run with --experimental-websocket on Node 20): loads the page, checks that it shows
// two titles and two loaded images, optionally saves a screenshot, presses "y" and waits until
// the page reports the verdict saved. Prints {"a": id, "b": id} of the judged pair.
//
// usage: node --experimental-websocket review_browser.mjs DEVTOOLS_PORT PAGE_URL [SCREENSHOT]
import { writeFileSync } from "node:fs";

const [devtoolsPort, pageUrl, screenshot] = process.argv.slice(2);
const fail = (message) => { console.error("review_browser: " + message); process.exit(1); };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function pageTarget() {
  for (let i = 0; i < 100; ++i) {
    try {
      const response = await fetch(`http://127.0.0.1:${devtoolsPort}/json/new?about:blank`, { method: "PUT" });
      if (response.ok) return await response.json();
    } catch { /* chromium still starting */ }
    await sleep(100);
  }
  fail("no DevTools endpoint on port " + devtoolsPort);
}

const target = await pageTarget();
const socket = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
let nextId = 1;
const pending = new Map();
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.id && pending.has(message.id)) {
    const { resolve, reject } = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) reject(new Error(JSON.stringify(message.error))); else resolve(message.result);
  }
};
const send = (method, params = {}) => new Promise((resolve, reject) => {
  const id = nextId++;
  pending.set(id, { resolve, reject });
  socket.send(JSON.stringify({ id, method, params }));
});
const evaluate = async (expression) => {
  const result = await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
  if (result.exceptionDetails) fail("page script failed: " + JSON.stringify(result.exceptionDetails));
  return result.result.value;
};
const waitFor = async (expression, what) => {
  for (let i = 0; i < 200; ++i) {
    if (await evaluate(expression)) return;
    await sleep(100);
  }
  fail("timed out waiting for " + what + "; page state: " +
       await evaluate("document.body.dataset.state + ' / ' + document.getElementById('message').textContent"));
};

await send("Page.enable");
await send("Emulation.setDeviceMetricsOverride", { width: 1100, height: 760, deviceScaleFactor: 1, mobile: false });
await send("Page.navigate", { url: pageUrl });
await waitFor("document.readyState === 'complete' && document.body.dataset.state === 'ready'", "a pair to review");
await waitFor("[...document.querySelectorAll('.listing img')].every((img) => img.complete && img.naturalWidth > 0)", "images to load");
const shown = await evaluate(`({
  titles: [...document.querySelectorAll('.listing h2')].map((h) => h.textContent.trim()),
  images: [...document.querySelectorAll('.listing img')].filter((img) => img.naturalWidth > 0).length,
  marks: document.querySelectorAll('mark.diff').length,
  ids: [...document.querySelectorAll('.listing .meta')].map((m) => m.textContent.split(' · ')[0].slice(3)),
})`);
if (shown.titles.length !== 2 || shown.titles.some((t) => t.length === 0)) fail("expected two titles, got " + JSON.stringify(shown.titles));
if (shown.images !== 2) fail("expected two loaded images, got " + shown.images);
if (screenshot) {
  const { data } = await send("Page.captureScreenshot", { format: "png" });
  writeFileSync(screenshot, Buffer.from(data, "base64"));
}
for (const type of ["keyDown", "keyUp"])
  await send("Input.dispatchKeyEvent", { type, key: "y", code: "KeyY", text: type === "keyDown" ? "y" : undefined, windowsVirtualKeyCode: 89 });
await waitFor("document.body.dataset.saved === '1'", "the verdict to be saved");
console.log(JSON.stringify({ a: shown.ids[0], b: shown.ids[1], titles: shown.titles, marks: shown.marks }));
socket.close();
process.exit(0);
