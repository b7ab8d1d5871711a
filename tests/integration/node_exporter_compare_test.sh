#!/usr/bin/env bash
# Runs the real node_exporter and tocsin-exporter side by side: every node_* family node_exporter
# emits must exist in tocsin-exporter with the same type and label names (families listed in
# docs/COMPATIBILITY.md as intentionally absent excepted), and constant gauges must be equal.
source "$(dirname "$0")/lib.sh"
need_peers prometheus-node-exporter
start_on_free_port np node metrics "$PEERS/prometheus-node-exporter" --web.listen-address=127.0.0.1:PORT
start_on_free_port tp tocsin metrics "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT
curl -fsS "http://127.0.0.1:$np/metrics" >"$WORK/node.txt"
curl -fsS "http://127.0.0.1:$tp/metrics" >"$WORK/tocsin.txt"
# family<TAB>type<TAB>sorted,label,names  (one row per distinct label-name set)
shape() {
  awk '/^# TYPE /{type[$3]=$4; next} /^#/{next} NF>=2 {
      name=$0; sub(/ [^ ]+$/, "", name); labels=""; i=index(name,"{");
      if (i>0) { body=substr(name,i+1); name=substr(name,1,i-1);
        n=split(body, parts, /="([^"\\]|\\.)*",?/); m=0;
        for (k=1;k<=n;k++) if (parts[k]!="" && parts[k]!="}") { gsub(/[{} ]/,"",parts[k]); names[++m]=parts[k] }
        for (a=2;a<=m;a++) { v=names[a]; b=a-1; while (b>0 && names[b]>v) { names[b+1]=names[b]; b-- } names[b+1]=v }
        for (a=1;a<=m;a++) labels=labels (a>1?",":"") names[a] }
      print name "\t" type[name] "\t" labels }' "$1" | sort -u
}
shape "$WORK/node.txt" | grep '^node_' >"$WORK/node.shape"
shape "$WORK/tocsin.txt" >"$WORK/tocsin.shape"
allowed=$(sed -n 's/^| `\(node_[a-z0-9_A-Z]*\)` | absent.*/\1/p' "$DOCS/COMPATIBILITY.md" | sort -u)
missing=0; checked=0
while IFS=$'\t' read -r fam typ labels; do
  if grep -qx "$fam" <<<"$allowed"; then continue; fi
  checked=$((checked + 1))
  if ! grep -qF "$fam"$'\t'"$typ"$'\t'"$labels" "$WORK/tocsin.shape"; then
    echo "missing or different: $fam ($typ) labels={$labels}; tocsin has: $(grep -F "$fam"$'\t' "$WORK/tocsin.shape" | head -1 | tr '\t' ' ')"
    missing=$((missing + 1))
  fi
done <"$WORK/node.shape"
val() { grep -E "^$2( |\{)" "$1" | head -1 | awk '{print $NF}'; }
for g in node_memory_MemTotal_bytes node_boot_time_seconds 'node_filesystem_size_bytes\{device="[^"]*",fstype="[^"]*",mountpoint="/"\}'; do
  a=$(val "$WORK/node.txt" "$g"); b=$(val "$WORK/tocsin.txt" "$g")
  [[ -n $a && $a == "$b" ]] || { echo "constant gauge $g differs: node_exporter=$a tocsin=$b"; missing=$((missing + 1)); }
done
((missing == 0)) || fail "$missing differences"
echo "PASS: $checked node_exporter family shapes present with equal type and label names; MemTotal, boot time, / size equal"
