// What an Envoy admin answer looks like for the Envoy a proxy runs, where releases differ. Each rule
// names the Envoy changelog entry (envoyproxy/envoy changelogs/<version>.yaml) or the istio/istio
// source it follows; src/sim/README.md ("Envoy versions") lists what is not modelled. Pure.
import {envoyVersionFor} from './envoy-config.js'

type J = Record<string, unknown>

/** Envoy's minor version for an Istio proxy version (1.17.8 → 25). */
export function envoyMinor(istioVersion: string): number {
  return envoyVersionFor(istioVersion).minor
}

function istioMinor(istioVersion: string): number {
  return Number(istioVersion.split('.')[1])
}

/**
 * `/server_info` `command_line_options`: Envoy's CommandLineOptions proto (envoy/admin/v3/server_info.proto,
 * every field printed) filled with the arguments pilot-agent starts Envoy with (istio/istio
 * pkg/envoy/proxy.go `args`/`NewProxy`): `--drain-time-s 45` (drainDuration), `--drain-strategy
 * immediate`, `--local-address-ip-version v4`, `--file-flush-interval-msec 1000`,
 * `--disable-hot-restart`, `--allow-unknown-static-fields`, `-l warning --component-log-level
 * misc:error`, Istio's `--log-format`, `--concurrency 2`; `--parent-shutdown-time-s` is not passed,
 * so Envoy's default (900 s) shows.
 */
export function commandLineOptions(istioVersion: string): J {
  const envoy = envoyMinor(istioVersion)
  return {
    base_id: '0', use_dynamic_base_id: false, base_id_path: '', concurrency: 2, config_path: 'etc/istio/proxy/envoy-rev.json', config_yaml: '',
    allow_unknown_static_fields: true, reject_unknown_dynamic_fields: false, ignore_unknown_dynamic_fields: false, admin_address_path: '', local_address_ip_version: 'v4',
    log_level: 'warning', component_log_level: 'misc:error', log_format: '%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t', log_format_escaped: false, log_path: '',
    service_cluster: '', service_node: '', service_zone: '', file_flush_interval: '1s', drain_time: '45s', drain_strategy: 'Immediate', parent_shutdown_time: '900s', mode: 'Serve',
    disable_hot_restart: true, enable_mutex_tracing: false, restart_epoch: 0, cpuset_threads: false, disabled_extensions: [], bootstrap_version: 0,
    enable_fine_grain_logging: false, socket_path: '@envoy_domain_socket', socket_mode: 0, enable_core_dump: false, stats_tag: [],
    // changelogs/1.30.0.yaml new_features, hot_restart: "Added new command-line flag --skip-hot-restart-on-no-parent".
    ...(envoy >= 30 ? {skip_hot_restart_on_no_parent: false} : {}),
    // changelogs/1.31.0.yaml new_features, hot_restart: "Added new command-line flag --skip-hot-restart-parent-stats".
    ...(envoy >= 31 ? {skip_hot_restart_parent_stats: false} : {}),
    // changelogs/1.33.0.yaml new_features, access log: "Added new command-line flag --skip-deprecated-logs";
    // pilot-agent passes it from Istio 1.25 (ENVOY_SKIP_DEPRECATED_LOGS, default true: pilot-agent options.go).
    ...(envoy >= 33 ? {skip_deprecated_logs: istioMinor(istioVersion) >= 25} : {}),
  }
}

/**
 * Server gauges that depend on the Envoy release. changelogs/1.31.0.yaml minor_behavior_changes,
 * statistics: "Hot restart statistics like hot_restart_epoch are only set when hot restart is
 * enabled", and pilot-agent always passes `--disable-hot-restart`: before Envoy 1.31 they read 0,
 * from 1.31 on they are absent.
 */
export function versionedServerStats(istioVersion: string): Array<[string, number]> {
  return envoyMinor(istioVersion) < 31 ? [['server.hot_restart_epoch', 0]] : []
}
