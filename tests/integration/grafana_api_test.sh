#!/usr/bin/env bash
# tocsin-tsdb answers the requests Grafana 10's Prometheus data source sends (method, headers and
# form bodies as Grafana sends them with its default POST method) in the shapes Grafana parses:
# "Save & test", the version check, the metric browser, a dashboard's range query with
# $__rate_interval expanded, an instant table query, Explore's exemplar query, metadata.
source "$(dirname "$0")/lib.sh"
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT \
  --storage.tsdb.path="$WORK/tsdb"
now=$(date +%s)
body=""
for i in $(seq 0 40); do
  t=$(( (now - 600 + i * 15) * 1000 ))
  body+="http_requests_total{job=\"api\",instance=\"a:80\",code=\"200\"} $((i * 10)) $t"$'\n'
  body+="http_requests_total{job=\"api\",instance=\"a:80\",code=\"500\"} $i $t"$'\n'
  body+="up{job=\"api\",instance=\"a:80\"} 1 $t"$'\n'
done
curl -fsS --data-binary "$body" "http://127.0.0.1:$tp/api/v1/import/prometheus" || fail "import"
H=(-H 'User-Agent: Grafana/10.4.1' -H 'Accept: application/json, text/plain, */*' -H 'Accept-Encoding: gzip, deflate'
   -H 'X-Grafana-Org-Id: 1' -H 'X-Dashboard-Uid: abc' -H 'X-Panel-Id: 2')
FORM=(-H 'Content-Type: application/x-www-form-urlencoded')
check() {  # check NAME PYTHON-ASSERTION  (the response JSON is d)
  python3 -c "import json,sys; d=json.load(open('$WORK/resp')); assert $2, d" || fail "$1: unexpected response: $(head -c 400 "$WORK/resp")"
  echo "ok: $1"
}
req() { curl -sS --compressed -o "$WORK/resp" -w '%{http_code}' "${H[@]}" "$@"; }
# "Save & test" (Grafana 10: POST form, query 1+1 at now).
[[ $(req "${FORM[@]}" --data "query=1%2B1&time=$now.123" "http://127.0.0.1:$tp/api/v1/query") == 200 ]] || fail "save & test"
check "save & test" 'd["status"]=="success" and d["data"]["resultType"]=="scalar" and d["data"]["result"][1]=="2"'
# The version check that enables Grafana's newer features.
[[ $(req "http://127.0.0.1:$tp/api/v1/status/buildinfo") == 200 ]] || fail buildinfo
check "buildinfo" 'd["data"]["version"].startswith("2.")'
# Metric browser: label names, metric names, series of a metric, values of a label.
s=$((now - 3600)); e=$now
[[ $(req "http://127.0.0.1:$tp/api/v1/labels?start=$s&end=$e") == 200 ]] || fail labels
check "labels" '"job" in d["data"] and "__name__" in d["data"]'
[[ $(req "http://127.0.0.1:$tp/api/v1/label/__name__/values?start=$s&end=$e") == 200 ]] || fail names
check "metric names" '"http_requests_total" in d["data"] and "up" in d["data"]'
[[ $(req "http://127.0.0.1:$tp/api/v1/series?match%5B%5D=%7B__name__%3D%22http_requests_total%22%7D&start=$s&end=$e") == 200 ]] || fail series
check "series" 'len(d["data"])==2 and all(x["__name__"]=="http_requests_total" for x in d["data"])'
[[ $(req "http://127.0.0.1:$tp/api/v1/label/code/values?match%5B%5D=http_requests_total%7Bjob%3D%22api%22%7D&start=$s&end=$e") == 200 ]] || fail values
check "label values" 'd["data"]==["200","500"]'
[[ $(req "${FORM[@]}" --data "match%5B%5D=up&start=$s&end=$e" "http://127.0.0.1:$tp/api/v1/series") == 200 ]] || fail "series POST"
check "series (POST)" 'd["data"]==[{"__name__":"up","instance":"a:80","job":"api"}]'
# A dashboard panel: range query, $__rate_interval expanded by Grafana to 1m, step 15s.
[[ $(req "${FORM[@]}" --data "query=sum+by+(code)+(rate(http_requests_total%7Bjob%3D%22api%22%7D%5B1m%5D))&start=$((now - 300))&end=$now&step=15" \
  "http://127.0.0.1:$tp/api/v1/query_range") == 200 ]] || fail "range query"
check "range query" 'd["data"]["resultType"]=="matrix" and len(d["data"]["result"])==2 and all(len(r["values"])>=15 for r in d["data"]["result"]) and abs(float([r for r in d["data"]["result"] if r["metric"]["code"]=="200"][0]["values"][-1][1]) - 10/15) < 1e-9'
# A table panel: instant query.
[[ $(req "${FORM[@]}" --data "query=up&time=$now" "http://127.0.0.1:$tp/api/v1/query") == 200 ]] || fail "instant"
check "instant query" 'd["data"]["resultType"]=="vector" and d["data"]["result"][0]["metric"]["job"]=="api" and d["data"]["result"][0]["value"][1]=="1"'
# Explore asks for exemplars beside the range query.
[[ $(req "${FORM[@]}" --data "query=http_requests_total&start=$s&end=$e" "http://127.0.0.1:$tp/api/v1/query_exemplars") == 200 ]] || fail exemplars
check "exemplars" 'd["status"]=="success" and d["data"]==[]'
[[ $(req "http://127.0.0.1:$tp/api/v1/metadata") == 200 ]] || fail metadata
check "metadata" 'd["status"]=="success" and isinstance(d["data"], dict)'
# A query with a mistake: Grafana shows the error text.
[[ $(req "${FORM[@]}" --data "query=rate(http_requests_total)&time=$now" "http://127.0.0.1:$tp/api/v1/query") == 400 ]] || fail "bad query status"
check "bad query" 'd["status"]=="error" and d["errorType"]=="bad_data" and "range vector" in d["error"]'
echo "PASS: Grafana's data-source requests answered in Prometheus's shapes"
