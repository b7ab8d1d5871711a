#!/usr/bin/env bash
# docker-compose.monitoring.yml validates with Debian's docker-compose (no Docker engine needed),
# and everything it names is real: each Tocsin service's flags appear in that binary's --help,
# published ports match its listen address, and every file or directory it mounts from the
# repository exists.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v docker-compose >/dev/null || { echo "SKIP: docker-compose not installed (scripts/deps.sh installs it)"; exit 77; }
(cd "$ROOT" && docker-compose -f docker-compose.monitoring.yml config -q) || fail "docker-compose config rejected the file"
"$TOCSIN_EXPORTER" --help >"$WORK/tocsin-exporter.help" 2>&1 || true
"$TOCSIN_TSDB" --help >"$WORK/tocsin-tsdb.help" 2>&1 || true
"$TOCSIN_ALERTD" --help >"$WORK/tocsin-alertd.help" 2>&1 || true
(cd "$ROOT" && docker-compose -f docker-compose.monitoring.yml config) >"$WORK/compose.yml"
python3 - "$WORK" "$ROOT" <<'PY'
import os, re, sys, yaml
work, root = sys.argv[1], sys.argv[2]
c = yaml.safe_load(open(os.path.join(work, "compose.yml")))
bad = []
for name, svc in c["services"].items():
    build = svc.get("build") or {}
    target = (build.get("args") or {}).get("TARGET")
    if target:
        help_text = open(os.path.join(work, target + ".help")).read()
        for arg in svc.get("command") or []:
            m = re.match(r"--([a-z0-9.\-]+)", arg)
            if m and ("--" + m.group(1)) not in help_text:
                bad.append(f"{name}: {target} has no flag --{m.group(1)}")
        listen = [a.split("=", 1)[1] for a in svc.get("command") or [] if a.startswith("--web.listen-address=")]
        for p in svc.get("ports") or []:
            container = str(p["target"]) if isinstance(p, dict) else str(p).split(":")[-1]
            if listen and not listen[0].endswith(":" + container):
                bad.append(f"{name}: publishes {container} but listens on {listen[0]}")
    for v in svc.get("volumes") or []:
        src = v["source"] if isinstance(v, dict) else v.split(":")[0]
        if isinstance(v, dict) and v.get("type") != "bind":
            continue
        if src.startswith(root) and not os.path.exists(src):
            bad.append(f"{name}: mounts {src}, which does not exist")
for b in bad:
    print("FAIL", b)
print(f"{len(c['services'])} services checked, {len(bad)} problems")
sys.exit(1 if bad else 0)
PY
echo "PASS: docker-compose.monitoring.yml is valid and names only real flags, ports and files"
