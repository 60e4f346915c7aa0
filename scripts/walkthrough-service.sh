#!/usr/bin/env bash
# usage: scripts/walkthrough-service.sh PORT [DATABASE_URL]   (default: a fresh SQLite file)
# The issue-4 walk-through as a new user: serve --demo, then curl.
# usage: walk.sh PORT [DATABASE_URL]
set -u
PORT=$1
export RESPITE_DATABASE_URL=${2:-sqlite:///$(mktemp -d)/respite.db}
cd "$(dirname "$0")/.."
echo "\$ RESPITE_DATABASE_URL=$RESPITE_DATABASE_URL respite serve --demo --port $PORT"
.venv/bin/respite serve --demo --port "$PORT" >/tmp/serve-$PORT.log 2>&1 &
SERVER=$!
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
grep -v INFO /tmp/serve-$PORT.log | head -3
KEY=$(sed -n 's/.*shown once): //p' /tmp/serve-$PORT.log)
H=(-H "Authorization: Bearer $KEY")
B="http://127.0.0.1:$PORT/v1"
echo; echo '$ curl -X POST $B/requests  (a crisis stay for case C-00001)'
curl -s "${H[@]}" -H 'Content-Type: application/json' -X POST "$B/requests" -d '{"request_id":"R-WALK-1","case_id":"C-00001","kind":"stay","priority":"crisis","received":"2025-07-10","nights":3,"earliest_start":"2025-07-15","latest_start":"2025-07-17","preferred_units":[],"max_travel_km":40.0}'
echo; echo; echo '$ curl -i -X POST $B/allocation-runs'
curl -s -i "${H[@]}" -H 'Content-Type: application/json' -X POST "$B/allocation-runs" -d '{"week_start":"2025-07-14","engine":"cpsat","time_limit":8}' | tr -d '\r' | tee /tmp/run-$PORT.txt | grep -E '^(HTTP|location)|run_id'
LOC=$(sed -n 's/^location: //Ip' /tmp/run-$PORT.txt)
echo; echo "\$ curl $LOC  (every second until it ends)"
for _ in $(seq 60); do
  S=$(curl -s "${H[@]}" "http://127.0.0.1:$PORT$LOC")
  echo "$S" | python3 -c 'import json,sys; r=json.load(sys.stdin); p=r.get("progress") or {}; print(r["status"], {k: p.get(k) for k in ("stage","objective","bound","gap","elapsed")})'
  echo "$S" | grep -qE '"status": ?"(succeeded|failed|cancelled)"' && break
  sleep 1
done
echo; echo "\$ curl $LOC/plan  (summary)"
curl -s "${H[@]}" "http://127.0.0.1:$PORT$LOC/plan" | python3 -c 'import json,sys; p=json.load(sys.stdin); print("stays",len(p["stays"]),"visits",len(p["visits"]),"unmet",len(p["unmet"])); w=[s for s in p["stays"] if s["request_id"]=="R-WALK-1"]; print("R-WALK-1:", w or [u for u in p["unmet"] if u["request_id"]=="R-WALK-1"]); print("an unmet request:", p["unmet"][0] if p["unmet"] else None)'
echo; echo "\$ curl -X POST $LOC/publish"
curl -s "${H[@]}" -X POST "http://127.0.0.1:$PORT$LOC/publish" | head -c 400; echo
echo; echo "\$ curl -X POST $LOC/publish  (again)"
curl -s -o /dev/null -w '%{http_code}\n' "${H[@]}" -X POST "http://127.0.0.1:$PORT$LOC/publish"
echo; echo "\$ curl '$B/bookings?limit=3'"
curl -s "${H[@]}" "$B/bookings?limit=3" | head -c 900; echo
echo; echo "\$ curl '$B/bookings?limit=1' -> total"
curl -s "${H[@]}" "$B/bookings?limit=1" | python3 -c 'import json,sys; r=json.load(sys.stdin); print({k:v for k,v in r.items() if k!="items"})'
kill $SERVER; wait $SERVER 2>/dev/null
echo "server stopped"
