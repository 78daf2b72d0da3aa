import { InputError } from '@forklift/contract/lite';
import { z } from 'zod';
import { forOs } from '../facts.js';
import { defineAction } from '../define.js';
import { assigned, raw, sh } from '../sh.js';
import type { AggregateItem, OsTable, RenderContext } from '../types.js';

/** A package name as apt, dnf and apk spell them (architecture qualifier allowed: `libc6:amd64`). */
const packageName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9+._:@-]*$/, 'must be a package name (letters, digits, + . _ : @ -)')
  // apt-get install NAME- removes NAME: a trailing - would turn an install into a removal
  .refine((name) => !name.endsWith('-'), { message: 'must not end with "-" (apt would remove the package instead)' });

/** Arguments of the `package` action. */
export const packageSchema = z.strictObject({
  name: z
    .union([packageName, z.array(packageName).min(1, 'must name at least one package')])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .describe('one package or a list'),
  ensure: z
    .enum(['present', 'absent', 'latest'])
    .default('present')
    .describe('present (default: install when missing), latest (install or upgrade) or absent (remove)'),
});

/** Parsed arguments of the `package` action. */
export type PackageArgs = z.output<typeof packageSchema>;

/** How one package manager checks, refreshes and changes packages (sh functions and commands). */
interface PackageManager {
  /** sh defining `fl_pkg_installed NAME` (true when installed) and `fl_pkg_outdated NAME` (true when the index has a newer version). */
  functions: string;
  /**
   * sh run once before the checks with every package name of the phase as its arguments (`set --`), when the
   * manager can answer for all of them in one process: `fl_pkg_installed` then reads its answer instead of asking again.
   */
  query?: string;
  /** Refresh the package index. */
  refresh: string;
  /** sh changing everything at once from `$fl_pkg_add` (install or upgrade) and `$fl_pkg_del` (remove). */
  change: string;
}

// Word splitting of $fl_pkg_add/$fl_pkg_del is wanted: they only hold validated package names.
const APT: PackageManager = {
  // one dpkg-query for every package of the phase: a word `STATUS:NAME` per package, once with its name as given
  // with an architecture (`libc6:amd64`) and once without, so either spelling finds its own status; a name dpkg
  // does not know has no word (not installed). The words cannot run into each other: names have no spaces.
  // (`|| true` outside the substitution: inside it, sh would fork once more to run dpkg-query before `true`)
  query: 'fl_pkg_state=$(dpkg-query -W -f=\'${db:Status-Status}:${binary:Package} ${db:Status-Status}:${Package} \' -- "$@" 2>/dev/null) || true\n',
  functions:
    'fl_pkg_installed() {\n' +
    '  case " $fl_pkg_state " in *" installed:$1 "*) return 0 ;; esac\n' +
    '  return 1\n' +
    '}\n' +
    'fl_pkg_outdated() {\n' +
    '  fl_policy=$(apt-cache policy "$1")\n' +
    "  fl_installed=$(printf '%s\\n' \"$fl_policy\" | sed -n 's/^ *Installed: //p')\n" +
    "  fl_candidate=$(printf '%s\\n' \"$fl_policy\" | sed -n 's/^ *Candidate: //p')\n" +
    '  [ -n "$fl_candidate" ] && [ "$fl_candidate" != "(none)" ] && [ "$fl_installed" != "$fl_candidate" ]\n' +
    '}\n',
  refresh: 'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 update',
  change:
    // One apt-get call: a trailing "-" on a name removes that package in the same transaction.
    'fl_pkg_args=$fl_pkg_add\nfor fl_p in $fl_pkg_del; do fl_pkg_args="$fl_pkg_args $fl_p-"; done\n' +
    '# shellcheck disable=SC2086\n' +
    'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install $fl_pkg_args',
};

const DNF: PackageManager = {
  functions:
    'fl_pkg_installed() {\n' +
    '  rpm -q --quiet "$1"\n' +
    '}\n' +
    'fl_pkg_outdated() {\n' +
    '  fl_rc=0\n' +
    '  dnf -q check-update "$1" >/dev/null 2>&1 || fl_rc=$?\n' +
    '  [ "$fl_rc" -eq 100 ]\n' +
    '}\n',
  refresh: 'dnf -q -y makecache',
  change:
    '# shellcheck disable=SC2086\n' +
    'if [ -n "$fl_pkg_add" ]; then dnf -y install $fl_pkg_add; fi\n' +
    '# shellcheck disable=SC2086\n' +
    'if [ -n "$fl_pkg_del" ]; then dnf -y remove $fl_pkg_del; fi',
};

const APK: PackageManager = {
  functions:
    'fl_pkg_installed() {\n' +
    '  apk info -e "$1" >/dev/null 2>&1\n' +
    '}\n' +
    'fl_pkg_outdated() {\n' +
    '  [ -n "$(apk list --upgradable "$1" 2>/dev/null)" ]\n' +
    '}\n',
  refresh: 'apk update -q',
  change:
    '# shellcheck disable=SC2086\n' +
    'if [ -n "$fl_pkg_add" ]; then apk add -q --upgrade $fl_pkg_add; fi\n' +
    '# shellcheck disable=SC2086\n' +
    'if [ -n "$fl_pkg_del" ]; then apk del -q $fl_pkg_del; fi',
};

/** The package manager of each OS family (Pallet's defimpl on the os family). */
export const PACKAGE_MANAGERS: OsTable<PackageManager> = { debian: APT, fedora: DNF, alpine: APK };

function checkConflicts(items: ReadonlyArray<AggregateItem<PackageArgs>>, ctx: RenderContext): void {
  const wanted = new Map<string, { id: string; ensure: string }>();
  for (const item of items) {
    for (const name of item.args.name) {
      const other = wanted.get(name);
      if (other && (other.ensure === 'absent') !== (item.args.ensure === 'absent')) {
        throw new InputError(`phase ${ctx.phase}: package ${name} is both ${other.ensure} (action ${other.id}) and ${item.args.ensure} (action ${item.id})`, {
          code: 'package-conflict',
        });
      }
      wanted.set(name, { id: item.id, ensure: item.args.ensure });
    }
  }
}

/** sh for the whole phase: check every package, refresh the index at most once, one package-manager change. */
function renderAggregate(items: ReadonlyArray<AggregateItem<PackageArgs>>, ctx: RenderContext): string {
  checkConflicts(items, ctx);
  const manager = forOs(PACKAGE_MANAGERS, ctx.facts);
  const anyLatest = items.some((item) => item.args.ensure === 'latest');
  let out = manager.functions + "fl_pkg_add=''\nfl_pkg_del=''\nfl_pkg_fresh=0\n";
  if (manager.query) out += sh`set -- ${items.flatMap((item) => item.args.name)}\n` + manager.query;
  if (anyLatest) {
    // "latest" compares with the index, so apply mode refreshes it first (this is the phase's one refresh).
    out += `if fl_apply; then\n  ${manager.refresh}\n  fl_pkg_fresh=1\nfi\n`;
  }
  for (const item of items) {
    for (const name of item.args.name) {
      const add = sh`fl_pkg_add="$fl_pkg_add "${name}; fl_note ${`pkg.${item.id}`}; fl_note ${`pkg-add.${item.id}.${name}`}`;
      const del = sh`fl_pkg_del="$fl_pkg_del "${name}; fl_note ${`pkg.${item.id}`}; fl_note ${`pkg-del.${item.id}.${name}`}`;
      if (item.args.ensure === 'present') out += sh`if ! fl_pkg_installed ${name}; then ${raw(add)}; fi\n`;
      else if (item.args.ensure === 'latest') out += sh`if ! fl_pkg_installed ${name} || fl_pkg_outdated ${name}; then ${raw(add)}; fi\n`;
      else out += sh`if fl_pkg_installed ${name}; then ${raw(del)}; fi\n`;
    }
  }
  // Instances whose packages change are marked changed before the one call, so the pending flags of their watchers
  // (service restartOn) are on the node even if the run dies during or right after it.
  for (const item of items) {
    if (item.notify.length === 0) continue;
    out += sh`if fl_noted ${`pkg.${item.id}`}; then (fl_id=` + `'${item.id}'` + `; fl_notify=${assigned(item.notify.join(' '))}; fl_changed); fi\n`;
  }
  out +=
    'if fl_apply && [ -n "$fl_pkg_add$fl_pkg_del" ]; then\n' +
    `  if [ -n "$fl_pkg_add" ] && [ "$fl_pkg_fresh" = 0 ]; then\n    ${manager.refresh}\n  fi\n` +
    manager.change.replace(/^/gm, '  ') +
    '\n' +
    'fi\n';
  return out;
}

/** `package`: install, upgrade or remove packages; all instances of a phase become one refresh and one package-manager change. */
export const packageAction = defineAction({
  name: 'package',
  summary: 'install (present), upgrade (latest) or remove (absent) packages; aggregated per phase into one package-manager call',
  doc:
    'Every `package` action of a phase is rendered together at the position of the first one: each package is checked ' +
    '(`dpkg-query`, `rpm -q`, `apk info -e`), the index is refreshed at most once (only when something must be installed, ' +
    'or first when any instance asks for `latest`), and one call installs, upgrades and removes everything: on apt ' +
    '`apt-get install A B C-` with `DEBIAN_FRONTEND=noninteractive`, `-y` and dpkg `--force-confdef --force-confold` (existing ' +
    'configuration files are kept; a dpkg lock held by another apt is waited for up to 5 minutes). dnf and apk use one call for installs/upgrades and one for removals. Each action reports ' +
    '`changed` only when its own packages changed. Put `package-source` actions before the first `package` action of a phase.',
  schema: packageSchema,
  label: (args) => `package ${args.name.join(' ')}${args.ensure === 'present' ? '' : ` (${args.ensure})`}`,
  aggregate: renderAggregate,
  render(args, ctx) {
    let out = sh`if fl_noted ${`pkg.${ctx.id}`}; then\n` + '  fl_changed\n';
    for (const name of args.name) {
      const [key, verb] = args.ensure === 'absent' ? ['pkg-del', 'remove'] : ['pkg-add', args.ensure === 'latest' ? 'install/upgrade' : 'install'];
      out += sh`  if fl_noted ${`${key}.${ctx.id}.${name}`}; then fl_say ${`${verb} ${name}`}; fi\n`;
    }
    return `${out}fi\n`;
  },
});
