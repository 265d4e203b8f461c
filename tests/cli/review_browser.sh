#!/usr/bin/env bash
# The review page in real headless Chromium: it loads, shows two titles and two images, and the
# "y" key stores a "review" label in catalog.db. Skipped (exit 77) without chromium or node.
# REVIEW_SCREENSHOT=path also saves a screenshot of the page (docs/review.png comes from here).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
for tool in chromium node sqlite3; do
  if ! command -v "$tool" > /dev/null; then echo "skipped: $tool is not installed"; exit 77; fi
done
if ! node --experimental-websocket --no-warnings -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2> /dev/null; then
  echo "skipped: node $(node --version) has no built-in WebSocket (needs Node >= 20.10)"; exit 77
fi
ws=$scratch/ws
PRODUCTS=100 build_served_workspace "$ws"

# Every listing gets a small picture, coloured by brand, under the workspace (the image root);
# the CSV lies beside them, so its relative paths resolve into ws/images at ingest.
python3 - "$ws" "$scratch/data/listings.csv" "$ws/images.csv" <<'PY'
import csv, os, struct, sys, zlib, hashlib
ws, listings, out = sys.argv[1:]
os.makedirs(os.path.join(ws, "images"), exist_ok=True)
def png(path, rgb, stripe):
    w = h = 160
    rows = b"".join(b"\0" + b"".join(bytes(stripe if (x // 16 + y // 16) % 2 else rgb)
                                     for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
with open(listings) as f, open(out, "w", newline="") as g:
    writer = csv.writer(g)
    writer.writerow(["id", "title", "brand", "price", "image"])
    for row in csv.DictReader(f):
        digest = hashlib.sha1(row["brand"].encode()).digest()
        png(os.path.join(ws, "images", row["id"] + ".png"), digest[:3], digest[3:6])
        writer.writerow([row["id"], row["title"], row["brand"], row["price"], "images/" + row["id"] + ".png"])
PY
"$doppel" -q ingest "$ws" "$ws/images.csv" > /dev/null
echo "browser-token-$RANDOM$RANDOM" > "$scratch/token"
start_server "$ws" --token-file "$scratch/token"

devtools_port=$(free_port)
chromium --headless=new --no-sandbox --disable-gpu --no-first-run --disable-extensions \
  --user-data-dir="$scratch/chromium" --remote-debugging-port="$devtools_port" about:blank \
  > "$scratch/chromium.log" 2>&1 &
chromium_pid=$!
trap 'kill "$chromium_pid" "$server_pid" 2> /dev/null || true' EXIT
shot=${REVIEW_SCREENSHOT:-$scratch/review.png}
result=$(node --experimental-websocket --no-warnings "$(dirname "$0")/review_browser.mjs" \
  "$devtools_port" "$base/review#token=$(cat "$scratch/token")" "$shot")
echo "judged: $result"
read -r a b <<< "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["a"], r["b"])' "$result")"
check "screenshot written" test -s "$shot"
stored=$(sqlite3 "$ws/catalog.db" "SELECT l.is_match || ',' || l.source || ',' || l.split FROM labels l
  JOIN listings x ON x.key = l.key_a JOIN listings y ON y.key = l.key_b
  WHERE (x.id = '$a' AND y.id = '$b') OR (x.id = '$b' AND y.id = '$a')")
check "the y key stored a review label for $a / $b ($stored)" test "$stored" = "1,review,train"
finish
