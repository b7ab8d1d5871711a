#!/usr/bin/env python3
"""Writes the Grafana dashboards of dashboards/ (Grafana 10+ JSON). Run after editing:
    python3 dashboards/generate.py
Every panel query uses the data-source variable and $__rate_interval; thresholds match the
alert rules in rules/. A panel whose description starts with "Conditional:" may be empty on
some hosts (tests allow that)."""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job="$job", instance="$instance"'


def panel(pid, title, exprs, x, y, w=12, h=8, unit="short", kind="timeseries", thresholds=None,
          description="", legend=None, maxv=None):
    targets = []
    for i, e in enumerate(exprs):
        t = {"datasource": DS, "expr": e, "refId": chr(ord("A") + i), "range": kind == "timeseries",
             "instant": kind != "timeseries"}
        if legend:
            t["legendFormat"] = legend[i] if isinstance(legend, list) else legend
        targets.append(t)
    steps = [{"color": "green", "value": None}]
    for value, color in thresholds or []:
        steps.append({"color": color, "value": value})
    p = {"id": pid, "type": kind, "title": title, "datasource": DS, "targets": targets,
         "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                         "overrides": []},
         "options": {}}
    if maxv is not None:
        p["fieldConfig"]["defaults"]["max"] = maxv
        p["fieldConfig"]["defaults"]["min"] = 0
    if thresholds and kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}}
    if description:
        p["description"] = description
    return p


def variables(metric):
    return {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source",
         "current": {}, "hide": 0},
        {"name": "job", "type": "query", "datasource": DS, "label": "Job", "refresh": 2,
         "query": {"query": f"label_values({metric}, job)", "refId": "job"},
         "definition": f"label_values({metric}, job)", "current": {}, "hide": 0},
        {"name": "instance", "type": "query", "datasource": DS, "label": "Instance", "refresh": 2,
         "query": {"query": f'label_values({metric}{{job="$job"}}, instance)', "refId": "instance"},
         "definition": f'label_values({metric}{{job="$job"}}, instance)', "current": {}, "hide": 0},
    ]}


def dashboard(uid, title, panels, templating, tags):
    return {"uid": uid, "title": title, "tags": tags, "timezone": "browser", "schemaVersion": 39,
            "version": 1, "editable": True, "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
            "templating": templating, "panels": panels, "annotations": {"list": []}}


def host():
    r = "$__rate_interval"
    p = [
        panel(1, "Uptime", [f"time() - node_boot_time_seconds{{{SEL}}}"], 0, 0, 6, 4, "s", "stat"),
        panel(2, "CPU busy", [f'(1 - avg(rate(node_cpu_seconds_total{{mode="idle", {SEL}}}[{r}]))) * 100'],
              6, 0, 6, 4, "percent", "gauge", [(80, "orange"), (90, "red")], maxv=100),
        panel(3, "Memory used", [f"(1 - node_memory_MemAvailable_bytes{{{SEL}}} / node_memory_MemTotal_bytes{{{SEL}}}) * 100"],
              12, 0, 6, 4, "percent", "gauge", [(80, "orange"), (90, "red")], maxv=100),
        panel(4, "Root filesystem used",
              [f'100 - node_filesystem_avail_bytes{{mountpoint="/", {SEL}}} / node_filesystem_size_bytes{{mountpoint="/", {SEL}}} * 100'],
              18, 0, 6, 4, "percent", "gauge", [(80, "orange"), (90, "red")], maxv=100),
        panel(5, "CPU by mode", [f"sum by (mode) (rate(node_cpu_seconds_total{{{SEL}}}[{r}]))"], 0, 4,
              unit="short", legend="{{mode}}", description="CPU seconds per second (cores) by mode."),
        panel(6, "Load average", [f"node_load1{{{SEL}}}", f"node_load5{{{SEL}}}", f"node_load15{{{SEL}}}",
                                  f'count(node_cpu_seconds_total{{mode="idle", {SEL}}})'],
              12, 4, legend=["1m", "5m", "15m", "CPUs"]),
        panel(7, "Memory", [f"node_memory_MemTotal_bytes{{{SEL}}} - node_memory_MemAvailable_bytes{{{SEL}}}",
                            f"node_memory_MemAvailable_bytes{{{SEL}}}", f"node_memory_Cached_bytes{{{SEL}}}",
                            f"node_memory_Buffers_bytes{{{SEL}}}"],
              0, 12, unit="bytes", legend=["used", "available", "cached", "buffers"]),
        panel(8, "Memory available", [f"node_memory_MemAvailable_bytes{{{SEL}}} / node_memory_MemTotal_bytes{{{SEL}}} * 100"],
              12, 12, unit="percent", thresholds=[(10, "red")],
              description="The HostOutOfMemory alert fires below 10% for 5 minutes."),
        panel(9, "Swap used", [f"node_memory_SwapTotal_bytes{{{SEL}}} - node_memory_SwapFree_bytes{{{SEL}}}"],
              0, 20, unit="bytes", description="Conditional: zero or absent on hosts without swap."),
        panel(10, "Disk space used",
              [f'100 - node_filesystem_avail_bytes{{fstype!~"tmpfs|overlay|squashfs", {SEL}}} / node_filesystem_size_bytes{{fstype!~"tmpfs|overlay|squashfs", {SEL}}} * 100'],
              12, 20, unit="percent", thresholds=[(90, "red")], legend="{{mountpoint}}",
              description="The HostOutOfDiskSpace alert fires above 90% for 5 minutes."),
        panel(11, "Inodes used",
              [f'100 - node_filesystem_files_free{{fstype!~"tmpfs|overlay|squashfs", {SEL}}} / node_filesystem_files{{fstype!~"tmpfs|overlay|squashfs", {SEL}}} * 100'],
              0, 28, unit="percent", thresholds=[(90, "red")], legend="{{mountpoint}}"),
        panel(12, "Disk I/O", [f"rate(node_disk_read_bytes_total{{{SEL}}}[{r}])",
                               f"rate(node_disk_written_bytes_total{{{SEL}}}[{r}])"],
              12, 28, unit="Bps", legend=["{{device}} read", "{{device}} written"]),
        panel(13, "Disk latency",
              [f"rate(node_disk_read_time_seconds_total{{{SEL}}}[{r}]) / rate(node_disk_reads_completed_total{{{SEL}}}[{r}])",
               f"rate(node_disk_write_time_seconds_total{{{SEL}}}[{r}]) / rate(node_disk_writes_completed_total{{{SEL}}}[{r}])"],
              0, 36, unit="s", legend=["{{device}} read", "{{device}} write"],
              description="Conditional: empty while a disk does no I/O."),
        panel(14, "Network traffic",
              [f'rate(node_network_receive_bytes_total{{device!="lo", {SEL}}}[{r}]) * 8',
               f'rate(node_network_transmit_bytes_total{{device!="lo", {SEL}}}[{r}]) * 8'],
              12, 36, unit="bps", legend=["{{device}} in", "{{device}} out"]),
        panel(15, "Pressure (PSI)",
              [f"rate(node_pressure_cpu_waiting_seconds_total{{{SEL}}}[{r}])",
               f"rate(node_pressure_memory_waiting_seconds_total{{{SEL}}}[{r}])",
               f"rate(node_pressure_io_waiting_seconds_total{{{SEL}}}[{r}])"],
              0, 44, unit="percentunit", legend=["cpu", "memory", "io"],
              description="Conditional: needs a kernel with pressure stall information (PSI)."),
        panel(16, "Network errors",
              [f"rate(node_network_receive_errs_total{{{SEL}}}[{r}])", f"rate(node_network_transmit_errs_total{{{SEL}}}[{r}])"],
              12, 44, unit="pps", legend=["{{device}} rx errors", "{{device}} tx errors"]),
    ]
    return dashboard("tocsin-host", "Tocsin / Host", p, variables("node_uname_info"), ["tocsin", "host"])


def containers():
    r = "$__rate_interval"
    sel = SEL
    p = [
        panel(1, "CPU by container", [f"sum by (id, name) (rate(container_cpu_usage_seconds_total{{{sel}}}[{r}]))"],
              0, 0, unit="short", legend="{{name}} {{id}}", thresholds=[(0.9, "red")],
              description="CPU seconds per second; the ContainerHighCpuUsage alert fires above 0.9 for 10 minutes."),
        panel(2, "CPU throttling",
              [f"rate(container_cpu_cfs_throttled_periods_total{{{sel}}}[{r}]) / rate(container_cpu_cfs_periods_total{{{sel}}}[{r}])"],
              12, 0, unit="percentunit", legend="{{name}} {{id}}", thresholds=[(0.25, "red")],
              description="Conditional: only containers with a CPU limit have CFS periods."),
        panel(3, "Memory working set", [f"container_memory_working_set_bytes{{{sel}}}"], 0, 8, unit="bytes",
              legend="{{name}} {{id}}"),
        panel(4, "Memory against limit",
              [f"container_memory_working_set_bytes{{{sel}}} / (container_spec_memory_limit_bytes{{{sel}}} > 0)"],
              12, 8, unit="percentunit", legend="{{name}} {{id}}", thresholds=[(0.9, "red")],
              description="Conditional: only containers with a memory limit."),
        panel(5, "OOM kills (1h)", [f"increase(container_oom_events_total{{{sel}}}[1h])"], 0, 16,
              legend="{{name}} {{id}}"),
        panel(6, "Disk I/O", [f"rate(container_fs_reads_bytes_total{{{sel}}}[{r}])",
                              f"rate(container_fs_writes_bytes_total{{{sel}}}[{r}])"],
              12, 16, unit="Bps", legend=["{{name}} {{id}} read", "{{name}} {{id}} write"],
              description="Conditional: needs the io controller's statistics (cgroups that did I/O)."),
        panel(7, "Network", [f"rate(container_network_receive_bytes_total{{{sel}}}[{r}]) * 8",
                             f"rate(container_network_transmit_bytes_total{{{sel}}}[{r}]) * 8"],
              0, 24, unit="bps", legend=["{{name}} {{id}} in", "{{name}} {{id}} out"]),
        panel(8, "Processes", [f"container_processes{{{sel}}}"], 12, 24, legend="{{name}} {{id}}"),
        panel(9, "Restarts (last seen changes, 1h)", [f"changes(container_last_seen{{{sel}}}[1h]) == 0"], 0, 32,
              legend="{{name}} {{id}}", description="Conditional: a container that restarted shows 0 changes in its old id."),
    ]
    return dashboard("tocsin-containers", "Tocsin / Containers", p, variables("container_last_seen"),
                     ["tocsin", "containers"])


def stack():
    r = "$__rate_interval"
    p = [
        panel(1, "Exporter scrape duration", ['scrape_duration_seconds{job="$job", instance="$instance"}'], 0, 0,
              unit="s"),
        panel(2, "Exporter collectors failing",
              ['count(node_scrape_collector_success{job="$job", instance="$instance"} == 0) or vector(0)'], 12, 0,
              thresholds=[(1, "red")]),
        panel(3, "Collector duration", ['node_scrape_collector_duration_seconds{job="$job", instance="$instance"}'],
              0, 8, unit="s", legend="{{collector}}"),
        panel(4, "tsdb ingest rate", [f'rate(tocsin_tsdb_head_samples_appended_total{{job="tocsin-tsdb"}}[{r}])'],
              12, 8, unit="short"),
        panel(5, "tsdb active series", ['tocsin_tsdb_head_series{job="tocsin-tsdb"}'], 0, 16),
        panel(6, "tsdb rejected samples", [f'rate(tocsin_tsdb_samples_rejected_total{{job="tocsin-tsdb"}}[{r}])'],
              12, 16, legend="{{reason}}"),
        panel(7, "tsdb bytes on disk per sample",
              ['tocsin_tsdb_storage_bytes{job="tocsin-tsdb"} / tocsin_tsdb_closed_chunk_samples{job="tocsin-tsdb"}'],
              0, 24, unit="bytes", description="Conditional: needs closed chunks (hours of data)."),
        panel(8, "tsdb query latency",
              [f'rate(tocsin_tsdb_query_seconds_total{{job="tocsin-tsdb"}}[{r}]) / rate(tocsin_tsdb_queries_total{{job="tocsin-tsdb"}}[{r}])'],
              12, 24, unit="s"),
        panel(9, "tsdb remote-write queue", ['tocsin_tsdb_remote_pending_samples{job="tocsin-tsdb"}'], 0, 32,
              legend="{{remote}}", description="Conditional: only with remote_write configured."),
        panel(10, "tsdb WAL size", ['tocsin_tsdb_wal_bytes{job="tocsin-tsdb"}'], 12, 32, unit="bytes"),
        panel(11, "alertd evaluation time",
              [f'rate(tocsin_alertd_rule_evaluation_seconds_total{{job="tocsin-alertd"}}[{r}])'], 0, 40, unit="s"),
        panel(12, "alertd evaluation failures",
              [f'rate(tocsin_alertd_rule_evaluation_failures_total{{job="tocsin-alertd"}}[{r}])'], 12, 40,
              thresholds=[(0.001, "red")]),
        panel(13, "alertd notifications", ['tocsin_alertd_notifications_total{job="tocsin-alertd"}'], 0, 48,
              legend="{{receiver}} {{result}}"),
    ]
    return dashboard("tocsin-stack", "Tocsin / Stack health", p, variables("node_uname_info"), ["tocsin", "stack"])


def alerts():
    none = "Conditional: empty while no alert is pending or firing."
    p = [
        panel(1, "Firing alerts", ['count(ALERTS{alertstate="firing"}) or vector(0)'], 0, 0, 6, 4, "short", "stat",
              [(1, "red")]),
        panel(2, "Pending alerts", ['count(ALERTS{alertstate="pending"}) or vector(0)'], 6, 0, 6, 4, "short", "stat",
              [(1, "orange")]),
        panel(3, "Firing now", ['ALERTS{alertstate="firing"}'], 0, 4, 24, 8, "short", "table", description=none),
        panel(4, "Pending now", ['ALERTS{alertstate="pending"}'], 0, 12, 24, 6, "short", "table", description=none),
        panel(5, "History", ['sum by (alertname, severity) (ALERTS{alertstate="firing"})'], 0, 18, 24, 8,
              legend="{{alertname}} ({{severity}})", description=none),
    ]
    templating = {"list": [variables("up")["list"][0]]}
    return dashboard("tocsin-alerts", "Tocsin / Alerts", p, templating, ["tocsin", "alerts"])


def main():
    for name, d in [("host.json", host()), ("containers.json", containers()), ("stack.json", stack()),
                    ("alerts.json", alerts())]:
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(d, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
