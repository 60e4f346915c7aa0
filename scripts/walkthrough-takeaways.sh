#!/usr/bin/env bash
# Issue-5 walk-through as a new user: feeds, reports, spreadsheets against `respite serve --demo`.
set -u
PORT=$1
export RESPITE_DATABASE_URL=${2:-sqlite:///$(mktemp -d)/respite.db}
cd "$(dirname "$0")/.."
W=$(mktemp -d)
.venv/bin/respite serve --demo --port "$PORT" >$W/serve.log 2>&1 &
SERVER=$!
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
KEY=$(sed -n 's/.*shown once): //p' $W/serve.log)
H=(-H "Authorization: Bearer $KEY")
B="http://127.0.0.1:$PORT/v1"
wait_run() { for _ in $(seq 120); do S=$(curl -s "${H[@]}" "$B/allocation-runs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'); [ "$S" = succeeded -o "$S" = failed ] && break; sleep 0.5; done; echo "run $1: $S"; }
RUN=$(curl -s "${H[@]}" -H 'Content-Type: application/json' -X POST "$B/allocation-runs" -d '{"engine":"cpsat","time_limit":8}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
wait_run $RUN
curl -s -o /dev/null -w 'publish: %{http_code}\n' "${H[@]}" -X POST "$B/allocation-runs/$RUN/publish"

echo; echo '$ curl -X POST $B/feeds/providers/P-01/token'
URL=$(curl -s "${H[@]}" -X POST "$B/feeds/providers/P-01/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
echo "url: ${URL%%token=*}token=<secret>"
echo '$ curl -i "$URL"  (headers, first event)'
curl -s -D $W/h.txt -o $W/p01.ics "$URL"; grep -iE '^(HTTP|content-type|etag)' $W/h.txt | tr -d '\r'
sed -n '1,12p' $W/p01.ics | tr -d '\r'; echo '...'; awk '/BEGIN:VEVENT/{f=1} f{print} /END:VEVENT/{exit}' $W/p01.ics | tr -d '\r'
ETAG=$(grep -i '^etag' $W/h.txt | cut -d' ' -f2 | tr -d '\r')
curl -s -o /dev/null -w 'again with If-None-Match: %{http_code}\n' -H "If-None-Match: $ETAG" "$URL"
echo '$ subscribe with the ical client library (allenporter/ical), as a calendar app would:'
.venv/bin/python - "$URL" <<'PY'
import sys, httpx
from ical.calendar_stream import IcsCalendarStream
cal = IcsCalendarStream.calendar_from_ics(httpx.get(sys.argv[1]).text)
print(f"{len(cal.events)} events; first: {cal.events[0].dtstart} {cal.events[0].summary!r} {cal.events[0].description!r}")
PY
grep -c "token=\[redacted\]" $W/serve.log | sed 's/^/access-log lines with the token redacted: /'
grep -c "$(echo "$URL" | sed 's/.*token=//')" $W/serve.log | sed 's/^/access-log lines holding the token: /'

echo; echo '$ curl $B/reports/served?run_id=...'
curl -s "${H[@]}" "$B/reports/served?run_id=$RUN"; echo
curl -s "${H[@]}" "$B/reports/summary.html?run_id=$RUN" -o $W/summary.html
echo "summary.html: $(wc -c <$W/summary.html) bytes, $(grep -o '<img' $W/summary.html | wc -l) charts"
timeout 60 chromium --headless --no-sandbox --disable-gpu --screenshot=${SUMMARY_PNG:-/tmp/summary.png} --window-size=1200,1900 file://$W/summary.html 2>/dev/null && echo "opened in chromium: ${SUMMARY_PNG:-/tmp/summary.png}"

echo; echo '$ curl $B/templates/problem.xlsx; fill in; POST /v1/imports'
curl -s "${H[@]}" "$B/templates/problem.xlsx" -o $W/template.xlsx
.venv/bin/python - $W/template.xlsx $W/bad.xlsx <<'PY'
import io, sys, pandas as pd
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1]); wb["cases"]["E2"] = "forty"; wb["stay requests"]["C3"] = "urgent"; wb.save(sys.argv[2])
PY
curl -s "${H[@]}" -X POST "$B/imports" -F "file=@$W/bad.xlsx"; echo
curl -s "${H[@]}" -X POST "$B/imports?dry_run=true" -F "file=@$W/template.xlsx"; echo
curl -s "${H[@]}" -X POST "$B/imports?replace=true" -F "file=@$W/template.xlsx"; echo
RUN2=$(curl -s "${H[@]}" -H 'Content-Type: application/json' -X POST "$B/allocation-runs" -d '{"engine":"cpsat","time_limit":3}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
wait_run $RUN2
curl -s "${H[@]}" "$B/allocation-runs/$RUN2/plan.xlsx" -o $W/plan.xlsx
.venv/bin/python -c "
import pandas as pd, sys
for name, f in pd.read_excel('$W/plan.xlsx', sheet_name=None).items(): print(name, len(f), 'rows; columns:', ', '.join(f.columns))"
kill $SERVER; wait $SERVER 2>/dev/null; echo "server stopped"
