// Phase-level behaviour of the system actions that single-action fixtures cannot show: package aggregation
// (one package-manager call per phase for apt, dnf and apk, shellcheck-clean), conflicts, restartOn by label,
// and that a password hash never reaches a label.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factsFromOs, notifyMap, renderPhaseScript, validateArgs, type ActionInstance } from '../src/index.js';
import { requireShellcheck, shellcheckFiles } from './fixture-lib.js';

function instances(list: Array<[string, string, unknown]>): ActionInstance[] {
  return list.map(([id, action, args]) => ({ id, action, args: validateArgs(action, args, id) }));
}

const phase = (family: string) =>
  instances([
    [
      'src',
      'package-source',
      { name: 'extra', url: 'http://deb.debian.org/debian', suites: ['bookworm-backports'], components: ['main'], description: 'extra' },
    ],
    ['web', 'package', { name: ['nginx', 'curl'] }],
    ['motd', 'file', { path: '/etc/motd', content: 'hi\n' }],
    ['tools', 'package', { name: 'git', ensure: 'latest' }],
    ['gone', 'package', { name: 'nano', ensure: 'absent' }],
    ['nginx', 'service', { name: 'nginx', state: 'started', restartOn: ['file /etc/motd', 'web'] }],
  ]).filter((instance) => family !== 'alpine' || instance.action !== 'package-source');

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

t.test('package action - instances of a phase render together at the first one with one apt-get call', async (t) => {
  const { script, actions } = renderPhaseScript(phase('debian'), { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }) });
  t.same(
    actions.map((action) => action.id),
    ['src', 'web', 'tools', 'gone', 'motd', 'nginx'],
    'package actions move to the position of the first one, the others keep their order',
  );
  t.equal(
    count(script, /apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install /g),
    1,
    'one apt-get install for the phase',
  );
  t.equal(
    count(script, /DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 update/g),
    2,
    'the refresh appears twice in the text (latest first, else before installing) ...',
  );
  t.match(script, /fl_pkg_fresh=1[\s\S]*"\$fl_pkg_fresh" = 0/, '... guarded so it runs at most once');
  t.match(script, /for fl_p in \$fl_pkg_del; do fl_pkg_args="\$fl_pkg_args \$fl_p-"; done/, 'removals ride in the same call with a trailing -');
  t.equal(count(script, /fl_pkg_installed\(\) \{/g), 1, 'the check functions are defined once');
});

t.test('package action - dnf and apk aggregate per phase and pass shellcheck', async (t) => {
  requireShellcheck();
  const scratch = mkdtempSync(join(tmpdir(), 'forklift-system-actions-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const paths: string[] = [];
  for (const [family, release] of [
    ['debian', '12'],
    ['fedora', '40'],
    ['alpine', '3.20'],
  ] as const) {
    for (const plan of [false, true]) {
      const { script } = renderPhaseScript(phase(family), { phase: 'configure', facts: factsFromOs({ family, release }), plan });
      const path = join(scratch, `${family}-${plan ? 'plan' : 'apply'}.sh`);
      writeFileSync(path, script);
      paths.push(path);
      if (family === 'fedora') {
        t.equal(count(script, /dnf -y install \$fl_pkg_add/g), 1, `fedora ${plan ? 'plan' : 'apply'}: one dnf install`);
        t.equal(count(script, /dnf -y remove \$fl_pkg_del/g), 1, `fedora ${plan ? 'plan' : 'apply'}: one dnf remove`);
      }
      if (family === 'alpine') t.equal(count(script, /apk add -q --upgrade \$fl_pkg_add/g), 1, `alpine ${plan ? 'plan' : 'apply'}: one apk add`);
    }
  }
  const findings = shellcheckFiles(paths);
  for (const path of paths) t.equal(findings.get(path), '', `${path}: shellcheck clean`);
});

t.test('package action - the same package present and absent in one phase is an error', async (t) => {
  const list = instances([
    ['a', 'package', { name: ['nginx', 'curl'] }],
    ['b', 'package', { name: 'nginx', ensure: 'absent' }],
  ]);
  t.throws(() => renderPhaseScript(list, { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }) }), {
    name: 'InputError',
    message: /package nginx is both present \(action a\) and absent \(action b\)/,
  });
});

t.test('service restartOn - watched actions are named by id or by label; unknown names stay for the caller to reject', async (t) => {
  const list = instances([
    ['conf', 'file', { path: '/etc/nginx/nginx.conf', content: 'x\n' }],
    ['site', 'file', { path: '/etc/nginx/sites-enabled/app', content: 'y\n' }],
    ['nginx', 'service', { name: 'nginx', state: 'started', restartOn: ['file /etc/nginx/nginx.conf', 'site', 'nope'] }],
  ]);
  const map = notifyMap(list);
  t.same(Object.fromEntries(map), { conf: ['nginx'], site: ['nginx'], nope: ['nginx'] });
  const { script } = renderPhaseScript(list.slice(0, 3), { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }) });
  t.match(script, /fl_id='conf'\n {2}fl_notify='nginx'\n/, 'the watched file notifies the service');
});

t.test('user action - a password hash written into the spec is refused (it would travel inside the plan record)', async (t) => {
  const hash = '$6$salt$abcdefghijklmnopqrstuvwxyz0123456789';
  t.throws(() => instances([['u', 'user', { name: 'alice', password: hash, locked: true }]]), /passwordFrom/, 'the message names passwordFrom');
  // the passwordFrom form (masked diff, the hash on chpasswd's stdin) is covered by the fixture user/password-from
});

t.test('package action - watchers of a package are marked pending before the one package-manager call', async (t) => {
  const list = instances([
    ['base', 'package', { name: 'curl' }],
    ['web', 'package', { name: 'nginx' }],
    ['nginx', 'service', { name: 'nginx', state: 'started', restartOn: ['web'] }],
  ]);
  const { script } = renderPhaseScript(list, { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }) });
  const mark = script.indexOf("if fl_noted pkg.web; then (fl_id='web'; fl_notify='nginx'; fl_changed); fi");
  t.ok(mark > 0, 'the head marks the watched instance changed with its own watchers');
  t.ok(mark < script.indexOf('install $fl_pkg_args'), '... before apt-get runs');
  t.notMatch(script, /fl_id=base; fl_notify/, 'unwatched instances are left to their own blocks');
});
