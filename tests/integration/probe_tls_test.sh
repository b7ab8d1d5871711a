#!/usr/bin/env bash
# An HTTPS health endpoint (openssl s_server with a fresh self-signed certificate) probed through
# /probe: probe_success 1, probe_http_ssl 1 and probe_ssl_earliest_cert_expiry equal to the
# certificate's notAfter; with certificate checks on, the self-signed certificate fails the probe.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
openssl req -x509 -newkey rsa:2048 -nodes -days 17 -subj /CN=127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl req failed"
want=$(date -d "$(openssl x509 -enddate -noout -in "$WORK/cert.pem" | cut -d= -f2)" +%s)
cat >"$WORK/modules.yml" <<YAML
modules:
  https_insecure:
    prober: http
    timeout: 5s
    http:
      tls_config:
        insecure_skip_verify: true
YAML
sport=$(free_port)
start tls openssl s_server -accept "127.0.0.1:$sport" -cert "$WORK/cert.pem" -key "$WORK/key.pem" -www -quiet
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$sport) 2>/dev/null && break; sleep 0.1; done
start_on_free_port ep exporter -/healthy "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT \
  --config.probe-file="$WORK/modules.yml"
out=$(curl -fsS "http://127.0.0.1:$ep/probe?module=https_insecure&target=https://127.0.0.1:$sport/")
val() { grep -E "^$1 " <<<"$out" | awk '{print $2}'; }
[[ $(val probe_success) == 1 ]] || fail "probe_success is not 1: $out"
[[ $(val probe_http_ssl) == 1 ]] || fail "probe_http_ssl is not 1"
got=$(val probe_ssl_earliest_cert_expiry | awk '{printf "%d", $1}')
[[ $got == "$want" ]] || fail "probe_ssl_earliest_cert_expiry $got, want $want"
strict=$(curl -fsS "http://127.0.0.1:$ep/probe?target=https://127.0.0.1:$sport/")
grep -q '^probe_success 0$' <<<"$strict" || fail "a self-signed certificate passed the default module"
echo "PASS: https probe succeeds, certificate expiry $got matches, verification rejects self-signed"
