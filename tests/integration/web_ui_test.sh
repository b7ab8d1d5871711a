#!/usr/bin/env bash
# tocsin-tsdb's page in headless Chromium, driven through chromedriver's WebDriver API: typing
# "ui_te" in the query box offers the metric ui_test, Tab completes it, Enter runs it, and the
# chart draws one line per series with the table beside it; a broken query shows Prometheus's
# parse error; the Targets tab shows the scraped target up; the Alerts tab shows the alert
# tocsin-alertd fires (through --alertd.url). A screenshot is left in $ARTIFACTS.
source "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
  { echo "SKIP: chromium and chromium-driver are not installed (scripts/deps.sh installs them)"; exit 77; }
ARTIFACTS=${ARTIFACTS:-$WORK}
mkdir -p "$ARTIFACTS"
ap=$(free_port)
cat >"$WORK/tsdb.yml" <<YAML
scrape_configs:
  - job_name: tocsin-alertd
    scrape_interval: 1s
    static_configs: [{targets: ['127.0.0.1:$ap']}]
YAML
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT \
  --storage.tsdb.path="$WORK/tsdb" --config.file="$WORK/tsdb.yml" --alertd.url=http://127.0.0.1:$ap
now=$(date +%s)
body=""
for i in $(seq 0 20); do
  t=$(((now - 600 + i * 30) * 1000))
  body+="ui_test{k=\"a\"} $i $t"$'\n'"ui_test{k=\"b\"} $((i * 2)) $t"$'\n'
done
curl -fsS --data-binary "$body" "http://127.0.0.1:$tp/api/v1/import/prometheus" || fail "import"
cat >"$WORK/rules.yml" <<'YAML'
groups:
  - name: ui
    interval: 1s
    rules:
      - alert: UiTestAlert
        expr: vector(1)
        annotations: {summary: "shown on the page"}
YAML
start alertd "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:$ap --rules.file="$WORK/rules.yml" \
  --datasource.url="http://127.0.0.1:$tp" --evaluation-interval=1s --storage.path="$WORK/alertd"
wait_http "http://127.0.0.1:$ap/-/ready"
start_on_free_port dp chromedriver status chromedriver --port=PORT --allowed-ips=127.0.0.1
python3 - "$dp" "$tp" "$ARTIFACTS/web-ui.png" <<'PY' || fail "browser checks failed"
import base64, json, sys, time, urllib.error, urllib.request
dp, tp, shot = sys.argv[1], sys.argv[2], sys.argv[3]
base = "http://127.0.0.1:%s" % dp
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        return json.load(urllib.request.urlopen(req, timeout=60))["value"]
    except urllib.error.HTTPError as e:
        raise SystemExit("WebDriver %s %s: HTTP %d: %s" % (method, path, e.code, e.read()[:400]))
caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
    "binary": "/usr/bin/chromium",
    # The DevTools pipe, not a port: in a chroot the port handshake fails ("unable to connect
    # to renderer").
    "args": ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--window-size=1280,900"]}}}}
sid = call("POST", "/session", caps)["sessionId"]
s = "/session/" + sid
def js(script):
    return call("POST", s + "/execute/sync", {"script": script, "args": []})
def wait(script, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = js(script)
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what + "; page: " + js("return document.body.innerText")[:500])
def el(css):
    return list(call("POST", s + "/element", {"using": "css selector", "value": css}).values())[0]
def keys(css, text):
    call("POST", s + "/element/%s/value" % el(css), {"text": text})
try:
    call("POST", s + "/url", {"url": "http://127.0.0.1:%s/graph" % tp})
    wait("return document.readyState === 'complete'", "the page")
    time.sleep(0.5)  # metric names for completion load in the background
    keys("#expr", "ui_te")
    offered = wait("var l = document.getElementById('suggestions'); return !l.hidden && l.innerText", "suggestions")
    assert "ui_test" in offered, offered
    keys("#expr", "\ue004")  # Tab completes
    value = js("return document.getElementById('expr').value")
    assert value == "ui_test", value
    keys("#expr", "\ue007")  # Enter runs
    n = wait("return document.querySelectorAll('#chart path.line').length", "the chart")
    assert n == 2, n
    assert js("return document.getElementById('chart-svg').dataset.series") == "2"
    rows = js("return document.querySelectorAll('#table tr').length")
    assert rows == 3, rows  # header + 2 series
    png = call("GET", s + "/screenshot")
    open(shot, "wb").write(base64.b64decode(png))
    # A broken query: Prometheus's error words.
    js("document.getElementById('expr').value = 'rate(ui_test'")
    keys("#expr", "\ue007")
    err = wait("var e = document.getElementById('error'); return !e.hidden && e.innerText", "the error")
    assert "parse error" in err and "bad_data" in err, err
    for _ in range(30):  # alertd's first scrape may still be ahead
        call("POST", s + "/url", {"url": "http://127.0.0.1:%s/targets" % tp})
        time.sleep(0.5)
        if js("return document.querySelectorAll('#targets-table td.up').length"):
            break
    else:
        raise SystemExit("no target up on /targets: " + js("return document.body.innerText")[:300])
    call("POST", s + "/url", {"url": "http://127.0.0.1:%s/alerts" % tp})
    alerts = wait("return document.getElementById('alerts-list').innerText.indexOf('UiTestAlert') >= 0 && document.getElementById('alerts-list').innerText", "the alert")
    assert "shown on the page" in alerts, alerts
    call("POST", s + "/url", {"url": "http://127.0.0.1:%s/tsdb-status" % tp})
    status = wait("return document.getElementById('status-view').innerText.indexOf('ui_test') >= 0", "the status view")
finally:
    call("DELETE", s)
print("browser: completion, chart with 2 lines, table, parse error, targets, alerts, status ok")
PY
[[ -s $ARTIFACTS/web-ui.png ]] || fail "no screenshot"
echo "PASS: completion offered and completed ui_test, the chart drew 2 lines and the table 2 rows, a parse error showed, targets up, alertd's alert listed; screenshot $ARTIFACTS/web-ui.png"
