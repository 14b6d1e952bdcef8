#!/bin/sh
# ctest (label browser): `effvk report --html` on the recorded lavapipe and
# H200 files (and PyTorch's) rendered by headless Chromium. The DOM Chromium
# dumps must hold every chart the files call for, each with as many points or
# bars as the files have results for it (counted here from the JSON, not from
# the page), the devices' names, no script and nothing fetched; a screenshot
# must show the charts (not blank, the devices' colours drawn).
# Exit 77 (skip) when Chromium or Python's PIL is missing or Chromium cannot
# start here. Usage: check_report_html.sh EFFVK RESULTS_DIR OUT_DIR
set -u
effvk=$1
results=$2
out=$3
python=/usr/bin/python3

skip() {
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*"
    exit 1
}

browser=$(command -v chromium || command -v chromium-browser) ||
    skip "no chromium (scripts/deps.sh installs Debian's chromium)"
"$python" -c "import PIL" 2>/dev/null || skip "$python cannot import PIL (Debian's python3-pil)"

rm -rf "$out"
mkdir -p "$out" || fail "cannot make $out"

# The browser's profile, cache and crash folders stay inside $out; no
# sandbox, since CI runs as root in a container.
chromium_run() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$out/profile" "$@" 2>>"$out/chromium.log"
}

printf '<!DOCTYPE html><html><body><p id="probe">probe</p></body></html>\n' >"$out/probe.html"
chromium_run --dump-dom "file://$out/probe.html" >"$out/probe.dom" &&
    grep -q 'id="probe"' "$out/probe.dom" ||
    skip "chromium cannot run here: $(grep -v -i dbus "$out/chromium.log" | tail -n 1)"

set -- "$results"/*-lavapipe.json "$results"/*-h200.json
for pytorch in "$results"/*pytorch*.json; do
    [ -f "$pytorch" ] && set -- "$@" "$pytorch"
done
"$effvk" report "$@" --html "$out/report.html" >"$out/report.txt" 2>"$out/report.err" ||
    fail "effvk report failed: $(cat "$out/report.err")"

chromium_run --dump-dom "file://$out/report.html" >"$out/dom.html" ||
    fail "chromium --dump-dom failed: $(tail -n 3 "$out/chromium.log")"
chromium_run --hide-scrollbars --window-size=1320,2400 --screenshot="$out/report.png" \
    "file://$out/report.html" >/dev/null ||
    fail "chromium --screenshot failed: $(tail -n 3 "$out/chromium.log")"

"$python" - "$out/dom.html" "$out/report.png" "$@" <<'EOF' || exit 1
import json
import math
import sys
from html.parser import HTMLParser

from PIL import Image, ImageChops

dom_path, png_path, *paths = sys.argv[1:]


class Charts(HTMLParser):
    """Counts each <svg class="chart">'s points and bars; keeps the text."""

    def __init__(self):
        super().__init__()
        self.charts, self.current, self.text, self.scripts = {}, None, [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "script":
            self.scripts += 1
        if tag == "svg" and "chart" in classes:
            self.current = a["id"]
            self.charts[self.current] = {"points": 0, "bars": 0}
        elif self.current and tag == "circle" and "point" in classes:
            self.charts[self.current]["points"] += 1
        elif self.current and tag == "rect" and "bar" in classes:
            self.charts[self.current]["bars"] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None

    def handle_data(self, data):
        self.text.append(data)


with open(dom_path, encoding="utf-8") as f:
    dom = f.read()
page = Charts()
page.feed(dom)
text = " ".join(page.text)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


# The devices, each file's results joined by name, the first file's kept.
devices, pytorch = {}, []
for path in paths:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("framework") == "pytorch":
        pytorch.extend(data["results"])
        continue
    if not isinstance(data.get("device"), dict) or "peak" not in data:
        continue
    results = devices.setdefault(data["device"]["name"], {})
    for r in data["results"]:
        results.setdefault(r["name"], r)
check(len(devices) == 2, f"expected the lavapipe and H200 devices, found {list(devices)}")
for name in devices:
    check(name in text, f"device name {name!r} not on the page")


def positive(value):
    return isinstance(value, (int, float)) and value > 0 and math.isfinite(value)


def is_total(r):
    return "layers" in r["params"] or "blocks" in r["params"]


def expect(chart, kind, count):
    got = page.charts.get(chart, {}).get(kind)
    check(got == count, f"{chart}: {got} {kind}, expected {count}")


for k, results in enumerate(devices.values(), start=1):
    for suite in sorted({r["suite"] for r in results.values()}):
        expect(f"roofline-{suite}-{k}", "points",
               sum(1 for r in results.values() if r["suite"] == suite and positive(r["macs"])
                   and positive(r["bytes"]) and positive(r["gflops"])))

for op, key in (("hetconv", "part"), ("octconv", "alpha_in")):
    layers, sums = 0, set()
    for k, results in enumerate(devices.values()):
        for r in results.values():
            if (r["suite"] == op and r["op"] == op and not is_total(r)
                    and positive(r["speedup_vs_baseline"])
                    and positive(r["macs_ratio_vs_baseline"])):
                layers += 1
                if r["baseline"] in results:
                    sums.add((k, r["name"].split("/")[0], r["shape"]["n"], r["params"][key]))
    check(layers > 0, f"no {op} layers in the files")
    expect(f"promise-{op}", "points", layers + len(sums))

expect("fusion-mbconv", "bars",
       sum(1 for results in devices.values() for r in results.values()
           if r["suite"] == "mbconv" and r["params"].get("fused") is True
           and positive(r["speedup_vs_baseline"])))
expect("latency-models", "bars",
       sum(1 for results in devices.values() for r in results.values()
           if r["suite"] == "models" and positive(r["wall_ms_median"]))
       + sum(1 for r in pytorch if positive(r["ms_median"])))

check(page.scripts == 0, "the page has a script")
for fetch in ("src=", "href=\"http", "url(http", "url(//", "@import"):
    check(fetch not in dom, f"the page fetches something: {fetch!r}")

# The screenshot: the page's top, with its first charts, drawn.
image = Image.open(png_path).convert("RGB")
small = image.resize((image.width // 4, image.height // 4))
pixels = list(small.getdata())
ink = sum(1 for p in pixels if sum(p) < 720) / len(pixels)
check(image.size == (1320, 2400), f"screenshot of {image.size}, expected 1320x2400")
check(ink > 0.05, f"screenshot nearly blank: {ink:.1%} of it not white")
check(len(set(pixels)) > 64, f"screenshot of only {len(set(pixels))} colours")
# Each device's colour, within a small distance (points are drawn a little
# transparent), in the charts and their legends.
for name, rgb in (("[1]", (0x1f, 0x6f, 0xb4)), ("[2]", (0xd6, 0x27, 0x28))):
    distance = ImageChops.difference(image, Image.new("RGB", image.size, rgb)).convert("L")
    near = distance.point(lambda d: 255 if d < 24 else 0).histogram()[255]
    check(near >= 1000, f"device {name}'s colour #{bytes(rgb).hex()} hardly drawn "
          f"({near} pixels)")

for message in failures:
    print("FAIL:", message)
if failures:
    sys.exit(1)
counts = ", ".join(f"{chart} {c['points'] or c['bars']}" for chart, c in page.charts.items())
print(f"ok: {len(page.charts)} charts ({counts}); screenshot {ink:.0%} ink")
EOF
