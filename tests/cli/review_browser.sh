#!/usr/bin/env bash
# The review page in real headless Chromium: it loads, shows two titles and two images, and the
# "y" key stores a "review" label in catalog.db. Chromium is driven over the DevTools protocol by
# review_browser.py (Python 3 with websocket-client: Debian's python3-websocket, installed by
# scripts/install-deps.sh). Skipped (exit 77) only when chromium is not installed.
# REVIEW_SCREENSHOT=path also saves a screenshot of the page (docs/review.png comes from here).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
if ! command -v chromium > /dev/null; then echo "skipped: chromium is not installed"; exit 77; fi
# The first Python 3 with websocket-client: python3 on the PATH may be another build than
# Debian's, which has the python3-websocket package.
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import websocket" 2> /dev/null; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
  echo "FAIL: no python3 with the websocket module (apt install python3-websocket;" \
    "scripts/install-deps.sh does)"
  exit 1
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
result=$("$python" "$(dirname "$0")/review_browser.py" \
  "$devtools_port" "$base/review#token=$(cat "$scratch/token")" "$shot")
echo "judged: $result"
read -r a b <<< "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["a"], r["b"])' "$result")"
check "screenshot written" test -s "$shot"
stored=$(python3 - "$ws/catalog.db" "$a" "$b" <<'PY'
import sqlite3, sys
db, a, b = sys.argv[1:]
row = sqlite3.connect(db).execute(
    "SELECT l.is_match || ',' || l.source || ',' || l.split FROM labels l "
    "JOIN listings x ON x.key = l.key_a JOIN listings y ON y.key = l.key_b "
    "WHERE (x.id = ? AND y.id = ?) OR (x.id = ? AND y.id = ?)", (a, b, b, a)).fetchone()
print(row[0] if row else "")
PY
)
check "the y key stored a review label for $a / $b ($stored)" test "$stored" = "1,review,train"
finish
