import { z } from 'zod';
import { forOs } from '../facts.js';
import { defineAction } from '../define.js';
import { sh } from '../sh.js';
import type { OsTable } from '../types.js';

/** Arguments of the `service` action. */
export const serviceSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9@_.:-]*$/, 'must be a service/unit name (letters, digits, @ _ . : -)')
      .describe('service name (systemd unit without .service, or init script)'),
    state: z
      .enum(['started', 'stopped', 'restarted', 'reloaded'])
      .optional()
      .describe('started/stopped (only when needed), restarted/reloaded (every run: always reports changed)'),
    enabled: z.boolean().optional().describe('start at boot (enable) or not (disable)'),
    restartOn: z
      .array(z.string().min(1))
      .optional()
      .describe('ids of actions (or their labels) whose change restarts the service; the pending restart survives a failed run'),
    onChange: z.enum(['restart', 'reload']).default('restart').describe('what a watched change triggers: restart (default) or reload'),
  })
  .superRefine((args, ctx) => {
    if (args.state === undefined && args.enabled === undefined && args.restartOn === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give at least one of state, enabled, restartOn' });
    }
    if (args.restartOn !== undefined && (args.state === 'stopped' || args.state === 'restarted')) {
      ctx.addIssue({ code: 'custom', path: ['restartOn'], message: `not valid with state "${args.state}"` });
    }
  });

/** Parsed arguments of the `service` action. */
export type ServiceArgs = z.output<typeof serviceSchema>;

/** sh commands of one init system for service NAME (already quoted). */
interface InitCommands {
  active(name: string): string;
  enabled(name: string): string;
  run(name: string, verb: 'start' | 'stop' | 'restart' | 'reload'): string;
  enable(name: string): string;
  disable(name: string): string;
}

const SYSTEMD: InitCommands = {
  active: (name) => sh`systemctl is-active --quiet ${name}`,
  enabled: (name) => sh`systemctl is-enabled --quiet ${name}`,
  run: (name, verb) => sh`systemctl ${verb} ${name}`,
  enable: (name) => sh`systemctl enable --quiet ${name}`,
  disable: (name) => sh`systemctl disable --quiet ${name}`,
};

const initScript = (name: string): string => `/etc/init.d/${name}`;

/** The fallback when systemd is not running: init scripts, enabled per the family's tool. */
export const SYSVINIT: OsTable<InitCommands> = {
  debian: {
    active: (name) => sh`${initScript(name)} status >/dev/null 2>&1`,
    enabled: (name) => sh`ls /etc/rc[2345].d/S[0-9][0-9]${name} >/dev/null 2>&1`,
    run: (name, verb) => sh`${initScript(name)} ${verb}`,
    enable: (name) => sh`update-rc.d ${name} defaults >/dev/null && update-rc.d ${name} enable`,
    disable: (name) => sh`update-rc.d ${name} disable`,
  },
  fedora: {
    active: (name) => sh`${initScript(name)} status >/dev/null 2>&1`,
    enabled: (name) => sh`chkconfig ${name}`,
    run: (name, verb) => sh`${initScript(name)} ${verb}`,
    enable: (name) => sh`chkconfig ${name} on`,
    disable: (name) => sh`chkconfig ${name} off`,
  },
  alpine: {
    active: (name) => sh`rc-service ${name} status >/dev/null 2>&1`,
    enabled: (name) => sh`rc-update show default | grep -qw -e ${name}`,
    run: (name, verb) => sh`rc-service ${name} ${verb}`,
    enable: (name) => sh`rc-update add ${name} default`,
    disable: (name) => sh`rc-update del ${name} default`,
  },
};

function renderFor(args: ServiceArgs, init: InitCommands, id: string): string {
  const n = args.name;
  const label = `service ${n}`;
  let out = '';
  if (args.enabled === true) {
    out += `if ! ${init.enabled(n)}; then\n  fl_changed\n` + sh`  fl_diff_value ${label} enabled no yes\n` + `  if fl_apply; then ${init.enable(n)}; fi\nfi\n`;
  } else if (args.enabled === false) {
    out += `if ${init.enabled(n)}; then\n  fl_changed\n` + sh`  fl_diff_value ${label} enabled yes no\n` + `  if fl_apply; then ${init.disable(n)}; fi\nfi\n`;
  }
  // A change of a watched action leaves a pending flag on the node (fl_changed); it is cleared only after the
  // restart (or a fresh start) succeeded, so a run that died in between still restarts next time.
  const pending = args.restartOn !== undefined;
  if (args.state === 'started' || pending) {
    if (pending) out += 'fl_started=0\n';
    if (args.state === 'started') {
      out +=
        `if ! ${init.active(n)}; then\n` +
        '  fl_changed\n' +
        sh`  fl_diff_value ${label} state stopped running\n` +
        `  if fl_apply; then ${init.run(n, 'start')}; fi\n` +
        (pending ? '  fl_started=1\n' : '') +
        'fi\n';
    }
  }
  if (pending) {
    const verb = args.onChange;
    out +=
      sh`if fl_pending ${id}; then\n` +
      '  if [ "$fl_started" = 0 ]; then\n' +
      '    fl_changed\n' +
      sh`    fl_say ${`${verb} ${n}: a watched action changed`}\n` +
      `    if fl_apply; then ${init.run(n, verb)}; fi\n` +
      '  fi\n' +
      sh`  fl_pending_clear ${id}\n` +
      'fi\n';
  }
  if (args.state === 'stopped') {
    out +=
      `if ${init.active(n)}; then\n  fl_changed\n` +
      sh`  fl_diff_value ${label} state running stopped\n` +
      `  if fl_apply; then ${init.run(n, 'stop')}; fi\nfi\n`;
  } else if (args.state === 'restarted' || args.state === 'reloaded') {
    const verb = args.state === 'restarted' ? 'restart' : 'reload';
    out += 'fl_changed\n' + sh`fl_say ${`${verb} ${n}`}\n` + `if fl_apply; then ${init.run(n, verb)}; fi\n`;
  }
  return out;
}

/** `service`: start/stop/restart/reload/enable/disable a service (systemd, else the init script), and restart on watched changes. */
export const serviceAction = defineAction({
  name: 'service',
  summary: 'a service started/stopped/restarted/reloaded and enabled/disabled (systemd, sysvinit fallback); restartOn watched actions',
  doc:
    "Uses systemd when it runs (`/run/systemd/system` exists), else the init script `/etc/init.d/NAME` with the family's " +
    'enable tool (Debian `update-rc.d`, Fedora `chkconfig`, Alpine `rc-service`/`rc-update`). `started`/`stopped` and ' +
    '`enabled` change only what differs; `restarted`/`reloaded` act (and report `changed`) on every run. `restartOn` lists ' +
    'action ids (or labels) of the same phase: when one of them changes, a pending flag is written at once under ' +
    '`/var/lib/forklift/pending/<this action id>` and the service is restarted (or reloaded, `onChange`) when this action ' +
    'runs; the flag is removed only after that succeeded, so a run that died in between restarts on the next run. A service ' +
    'that this action just started is not restarted again.',
  schema: serviceSchema,
  label: (args) => `service ${args.name}${args.state ? ` (${args.state})` : ''}`,
  watches: (args) => args.restartOn ?? [],
  render(args, ctx) {
    return (
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then\n' +
      renderFor(args, SYSTEMD, ctx.id).replace(/^(?=.)/gm, '  ') +
      'else\n' +
      sh`  if [ ! -x ${initScript(args.name)} ]; then fl_fail ${`systemd is not running and there is no init script ${initScript(args.name)}`}; fi\n` +
      renderFor(args, forOs(SYSVINIT, ctx.facts), ctx.id).replace(/^(?=.)/gm, '  ') +
      'fi\n'
    );
  },
});
