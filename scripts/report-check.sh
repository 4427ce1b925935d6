#!/usr/bin/env bash
# Report check: NigGen.Sample's HTML reports render in headless Chromium.
#   bash scripts/report-check.sh [report.html ...]    (default: sample-output/report.html and sample-output/explain.html)
# For each report: --dump-dom must hold every section the page promises (summary, input-attributions, filters,
# dense-layer, and sanity-check for the test-set report) with their drawings and every plot's axis titles, and
# --screenshot must give a PNG that is not blank (enough non-white pixels, several colours). Installs Debian's
# chromium with apt-get when /usr/bin/chromium is missing (CI runs as root with the Debian package registry).
set -euo pipefail
reports=()
for report in "$@"; do reports+=("$(realpath -m "$report")"); done
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
  echo "report-check: installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

if (( ${#reports[@]} == 0 )); then
  reports=(sample-output/report.html sample-output/explain.html)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/niggen-report-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Flags as this machine's Chromium needs them: no sandbox as root, no GPU, and no background networking (the
# network is closed; the report loads nothing from it).
chromium_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$work/profile")

fail() { echo "report-check: $1" >&2; exit 1; }

for report in "${reports[@]}"; do
  [[ -f $report ]] || fail "$report does not exist (run the sample first: dotnet run --project NigGen.Sample -c Release)"
  url="file://$(realpath "$report")"
  name=$(basename "$report" .html)

  timeout 120 chromium "${chromium_flags[@]}" --dump-dom "$url" > "$work/$name.dom.html" 2>"$work/$name.dom.log" \
    || { cat "$work/$name.dom.log" >&2; fail "chromium --dump-dom failed on $report"; }
  sections=(summary input-attributions filters dense-layer)
  if grep -q 'id="sanity-check"' "$report"; then sections+=(sanity-check); fi
  for section in "${sections[@]}"; do
    grep -q "<section id=\"$section\">" "$work/$name.dom.html" || fail "$report: section '$section' missing from the rendered DOM"
  done
  tracks=$(grep -o '<svg class="track"' "$work/$name.dom.html" | wc -l)
  logos=$(grep -o '<svg class="logo"' "$work/$name.dom.html" | wc -l)
  bars=$(grep -o '<svg class="bars"' "$work/$name.dom.html" | wc -l)
  (( tracks >= 1 && logos >= 18 && bars >= 1 )) || fail "$report: expected attribution tracks, 18 logos and bar charts; the DOM has $tracks, $logos, $bars"
  # Every plot has both axis titles.
  for title in '>position (base)</text>' '>attribution</text>'; do
    [[ $(grep -oF "$title" "$work/$name.dom.html" | wc -l) == "$tracks" ]] || fail "$report: not every track has the axis title $title"
  done
  for title in '>fc1 neuron</text>' '>importance</text>'; do
    [[ $(grep -oF "$title" "$work/$name.dom.html" | wc -l) == "$bars" ]] || fail "$report: not every bar chart has the axis title $title"
  done

  png="${PNG_DIR:-$work}/$name.png"
  timeout 120 chromium "${chromium_flags[@]}" --window-size=1280,2400 --screenshot="$png" "$url" >"$work/$name.png.log" 2>&1 \
    || { cat "$work/$name.png.log" >&2; fail "chromium --screenshot failed on $report"; }
  [[ -s $png ]] || fail "$report: no screenshot written"
  # Decode the PNG (stdlib only) and count pixels that are not near-white, and distinct colours.
  python3 - "$png" "$report" <<'PY'
import struct, sys, zlib
path, report = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', f'{path} is not a PNG'
pos, idat, width = 8, b'', 0
while pos < len(data):
    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b'IHDR':
        width, height, depth, colour = struct.unpack('>IIBB', body[:10])
        assert depth == 8 and colour in (2, 6), f'unexpected PNG format (depth {depth}, colour type {colour})'
        channels = 3 if colour == 2 else 4
    elif kind == b'IDAT':
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
stride = width * channels
previous = bytearray(stride)
inked, colours, offset = 0, set(), 0
for y in range(height):
    kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
    offset += 1 + stride
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b = previous[i]
        c = previous[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    previous = line
    for x in range(0, stride, channels * 2):  # every other pixel is plenty
        r, g, b = line[x], line[x + 1], line[x + 2]
        if min(r, g, b) < 230:
            inked += 1
            colours.add((r >> 4, g >> 4, b >> 4))
share = inked / (width * height / 2)
print(f'report-check: {report}: {width}×{height} screenshot, {share:.1%} of pixels inked, {len(colours)} colours')
if share < 0.03 or len(colours) < 8:
    sys.exit(f'report-check: {report} renders blank or nearly so')
PY
  echo "report-check: $report OK (sections: ${sections[*]}; $tracks tracks, $logos logos, $bars bar charts)"
done
