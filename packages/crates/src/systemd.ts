import { shellQuote } from '@forklift/contract';
import type { ActionEntry } from '@forklift/spec';

/**
 * An `exec` running `systemctl daemon-reload` only when systemd's view of `unit` is stale: its unit file
 * changed since it was loaded (NeedDaemonReload), or one of `dropIns` is not among the drop-ins it loaded —
 * systemd does not notice a drop-in that is new, so NeedDaemonReload alone misses it. Nothing to do where
 * systemd is not running.
 * @example daemonReload('nginx-daemon-reload', 'nginx.service', ['/etc/systemd/system/nginx.service.d/forklift-reload.conf'])
 */
export function daemonReload(id: string, unit: string, dropIns: readonly string[] = []): ActionEntry {
  const loaded = dropIns.map((path) => `systemctl show -p DropInPaths --value ${shellQuote(unit)} | tr ' ' '\\n' | grep -qxF -- ${shellQuote(path)}`);
  const current = [`[ "$(systemctl show -p NeedDaemonReload --value ${shellQuote(unit)})" != yes ]`, ...loaded].join(' && ');
  return { action: 'exec', id, script: 'systemctl daemon-reload', unless: `[ ! -d /run/systemd/system ] || { ${current}; }` };
}
