import { z } from 'zod';
import { defineAction } from '../define.js';
import { absolutePath, noNul } from '../schemas.js';
import { sh } from '../sh.js';
import type { RenderContext } from '../types.js';
import { accountName } from './group.js';

const MASK = '***';

/** One OpenSSH public key line: no line breaks. */
const authorizedKey = noNul
  .min(1, 'must not be empty')
  .refine((value) => !/[\r\n]/.test(value), { message: 'must be one line (no line breaks)' })
  .refine((value) => value.trim() === value && !value.startsWith('#'), { message: 'must be a key line without surrounding blanks, not a comment' });

/** Arguments of the `user` action. */
export const userSchema = z
  .strictObject({
    name: accountName.describe('login name'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    uid: z.number().int().min(0).max(4294967294).optional().describe('numeric user id'),
    group: accountName.optional().describe('primary group (must exist); default: a group named like the user'),
    groups: z.array(accountName).optional().describe('the exact set of supplementary groups (each must exist); [] removes all'),
    home: absolutePath.optional().describe('home directory (changed with usermod --home, contents are not moved)'),
    createHome: z.boolean().optional().describe('create the home directory when creating the user (default: true unless system)'),
    shell: absolutePath.optional().describe('login shell'),
    comment: noNul
      .refine((value) => !/[:\u0000-\u001f\u007f]/.test(value), { message: 'must not contain ":" or control characters (line breaks, tabs) — /etc/passwd cannot store them' })
      .optional()
      .describe('GECOS comment (full name)'),
    system: z.boolean().default(false).describe('create a system account (only used when the user is created)'),
    password: z.unknown().optional().describe('not accepted: a hash inside the spec would travel inside the plan; use passwordFrom'),
    passwordFrom: z
      .string()
      .min(1)
      .optional()
      .describe('a controller file (relative to the spec\'s project) whose first line is the crypt(3) hash ("$y$..." or "*"): delivered out of band per run, never in a record or on a command line; shown as ***'),
    locked: z.boolean().optional().describe('lock (true) or unlock (false) the password (usermod --lock/--unlock)'),
    authorizedKeys: z.array(authorizedKey).optional().describe('public keys that must be in ~/.ssh/authorized_keys (others are kept)'),
    removeHome: z.boolean().default(false).describe('with ensure "absent": also remove the home directory and mail spool'),
  })
  .superRefine((args, ctx) => {
    if (args.password !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'a password hash may not be written into the spec (it would travel inside the plan record): put it in a controller file and use passwordFrom' });
    }
    if (args.ensure === 'absent') {
      const extra = (['uid', 'group', 'groups', 'home', 'createHome', 'shell', 'comment', 'passwordFrom', 'locked', 'authorizedKeys'] as const).filter((key) => args[key] !== undefined);
      if (extra.length > 0) ctx.addIssue({ code: 'custom', message: `ensure "absent" takes no ${extra.join(', ')}` });
    } else if (args.removeHome) {
      ctx.addIssue({ code: 'custom', path: ['removeHome'], message: 'only valid with ensure "absent"' });
    }
  });

/** Parsed arguments of the `user` action. */
export type UserArgs = z.output<typeof userSchema>;

function sortedNames(names: readonly string[]): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function renderCreate(args: UserArgs): string {
  const createHome = args.createHome ?? !args.system;
  const command = [
    'useradd',
    ...(args.system ? ['--system'] : []),
    ...(args.uid !== undefined ? ['--uid', args.uid] : []),
    ...(args.group !== undefined ? ['--gid', args.group] : []),
    ...(args.groups !== undefined && args.groups.length > 0 ? ['--groups', sortedNames(args.groups).join(',')] : []),
    ...(args.home !== undefined ? ['--home-dir', args.home] : []),
    createHome ? '--create-home' : '--no-create-home',
    ...(args.shell !== undefined ? ['--shell', args.shell] : []),
    ...(args.comment !== undefined ? ['--comment', args.comment] : []),
    args.name,
  ];
  return (
    sh`if ! getent passwd ${args.name} >/dev/null; then\n` +
    '  fl_changed\n' +
    sh`  fl_diff_value ${`user ${args.name}`} user absent present\n` +
    '  if ! fl_apply; then exit 0; fi\n' +
    sh`  ${command}\n` +
    'fi\n'
  );
}

/** One passwd field compared with the wanted value; a difference adds usermod options to "$@". */
function renderField(args: UserArgs, field: number, attribute: string, option: string, wanted: string | number | undefined): string {
  if (wanted === undefined) return '';
  return (
    sh`fl_have=$(printf '%s\\n' "$fl_entry" | cut -d: -f${field})\n` +
    sh`if [ "$fl_have" != ${wanted} ]; then\n` +
    sh`  fl_diff_value ${`user ${args.name}`} ${attribute} "$fl_have" ${wanted}\n` +
    sh`  set -- "$@" ${option} ${wanted}\n` +
    'fi\n'
  );
}

function renderGroups(args: UserArgs): string {
  let out = '';
  if (args.group !== undefined) {
    out +=
      sh`fl_have=$(id -gn ${args.name})\n` +
      sh`if [ "$fl_have" != ${args.group} ]; then\n` +
      sh`  fl_diff_value ${`user ${args.name}`} group "$fl_have" ${args.group}\n` +
      sh`  set -- "$@" --gid ${args.group}\n` +
      'fi\n';
  }
  if (args.groups !== undefined) {
    const wanted = sortedNames(args.groups);
    // Compare without the primary group: id -Gn lists it, and listing it in groups is harmless.
    out +=
      sh`fl_primary=$(id -gn ${args.name})\n` +
      sh`fl_have=$(id -Gn ${args.name} | tr ' ' '\\n' | grep -vxF -e "$fl_primary" | sort | tr '\\n' ' ')\n` +
      (wanted.length > 0 ? sh`fl_want=$(printf '%s\\n' ${wanted} | grep -vxF -e "$fl_primary" | sort | tr '\\n' ' ')\n` : "fl_want=''\n") +
      'if [ "$fl_have" != "$fl_want" ]; then\n' +
      sh`  fl_diff_value ${`user ${args.name}`} groups "$fl_have" "$fl_want"\n` +
      sh`  set -- "$@" --groups ${wanted.join(',')}\n` +
      'fi\n';
  }
  return out;
}

function renderPassword(args: UserArgs, ctx: RenderContext): string {
  let out = '';
  if (args.passwordFrom !== undefined || args.locked !== undefined) out += sh`fl_hash=$(getent shadow ${args.name} | cut -d: -f2)\n`;
  if (args.passwordFrom !== undefined) {
    // The hash comes from a file delivered out of band; it reaches chpasswd on stdin (printf is a builtin: never on argv).
    const word = ctx.upload(args.passwordFrom, { sensitive: true });
    out +=
      `fl_want=''\nIFS= read -r fl_want <${word} || :\n` +
      'case $fl_want in\n' +
      "  *[!A-Za-z0-9./\\$*=+,_-]* | '') " + sh`fl_fail ${`user ${args.name}: passwordFrom must hold a crypt(3) hash like $y$... or * on its first line (no ":" or blanks)`} ;;\n` +
      "  '$'* | '*'*) ;;\n" +
      '  *) ' + sh`fl_fail ${`user ${args.name}: passwordFrom must hold a crypt(3) hash starting with $ or *`} ;;\n` +
      'esac\n' +
      'if [ "${fl_hash#!}" != "$fl_want" ]; then\n' +
      '  fl_changed\n' +
      sh`  fl_diff_value ${`user ${args.name}`} password ${MASK} ${`${MASK} (new hash)`}\n` +
      '  if fl_apply; then\n' +
      sh`    printf '%s:%s\\n' ${args.name} "$fl_want" | chpasswd --encrypted\n` +
      // A locked account stays locked when its hash changes (chpasswd unlocks), unless locked: false says otherwise.
      (args.locked === false ? '' : '    case $fl_hash in !?*) ' + sh`usermod --lock ${args.name}` + ' ;; esac\n') +
      sh`    fl_hash=$(getent shadow ${args.name} | cut -d: -f2)\n` +
      '  fi\n' +
      'fi\n';
  }
  if (args.locked === true) {
    out +=
      'case $fl_hash in\n' +
      '  !*) ;;\n' +
      '  *)\n' +
      '    fl_changed\n' +
      sh`    fl_diff_value ${`user ${args.name}`} password unlocked locked\n` +
      sh`    if fl_apply; then usermod --lock ${args.name}; fi ;;\n` +
      'esac\n';
  } else if (args.locked === false) {
    // usermod --unlock refuses an account that would have no password at all: say so instead.
    out +=
      'case $fl_hash in\n' +
      (args.passwordFrom === undefined
        ? "  '!' | '!!' | '!*')\n" + sh`    fl_fail ${`user ${args.name}: cannot unlock an account without a password hash (give passwordFrom)`} ;;\n`
        : '') +
      '  !*)\n' +
      '    fl_changed\n' +
      sh`    fl_diff_value ${`user ${args.name}`} password locked unlocked\n` +
      sh`    if fl_apply; then usermod --unlock ${args.name}; fi ;;\n` +
      'esac\n';
  }
  return out;
}

function renderKeys(args: UserArgs): string {
  const keys = args.authorizedKeys;
  if (keys === undefined || keys.length === 0) return '';
  const label = `user ${args.name}`;
  let out =
    sh`fl_home=$(getent passwd ${args.name} | cut -d: -f6)\n` +
    sh`fl_group=$(id -gn ${args.name})\n` +
    'fl_ssh="$fl_home/.ssh"\n' +
    'fl_keys="$fl_ssh/authorized_keys"\n' +
    'if [ ! -d "$fl_ssh" ]; then\n' +
    '  fl_changed\n' +
    sh`  fl_diff_value "$fl_ssh" ${`directory (${label})`} absent present\n` +
    '  if fl_apply; then mkdir -p "$fl_ssh"; fi\n' +
    'fi\n';
  for (const key of keys) {
    // A file written without a final newline (nspawn's credential) gets one first, so keys never join on one line.
    out +=
      sh`if [ ! -f "$fl_keys" ] || ! grep -qxF -e ${key} "$fl_keys"; then\n` +
      '  fl_changed\n' +
      sh`  fl_diff_value "$fl_keys" ${`authorized key (${label})`} '' ${key}\n` +
      '  if fl_apply; then\n' +
      '    if [ -s "$fl_keys" ] && [ "$(tail -c 1 "$fl_keys" | wc -l)" -eq 0 ]; then printf \'\\n\' >>"$fl_keys"; fi\n' +
      sh`    printf '%s\\n' ${key} >>"$fl_keys"\n` +
      '  fi\n' +
      'fi\n';
  }
  for (const [path, mode] of [['fl_ssh', '700'], ['fl_keys', '600']] as const) {
    const owner = sh`${`${args.name}:`}` + '"$fl_group"';
    out +=
      `if [ -e "$${path}" ]; then\n` +
      `  fl_have=$(fl_stat '%U:%G %a' "$${path}")\n` +
      `  if [ "$fl_have" != ${owner}' ${mode}' ]; then\n` +
      '    fl_changed\n' +
      `    fl_diff_value "$${path}" ownership "$fl_have" ${owner}' ${mode}'\n` +
      `    if fl_apply; then chown ${owner} "$${path}" && chmod ${mode} "$${path}"; fi\n` +
      '  fi\n' +
      'fi\n';
  }
  return out;
}

function renderPresent(args: UserArgs, ctx: RenderContext): string {
  const fields =
    renderField(args, 3, 'uid', '--uid', args.uid) +
    renderField(args, 5, 'comment', '--comment', args.comment) +
    renderField(args, 6, 'home', '--home', args.home) +
    renderField(args, 7, 'shell', '--shell', args.shell);
  const groups = renderGroups(args);
  const modify =
    fields || groups
      ? (fields ? sh`fl_entry=$(getent passwd ${args.name})\n` : '') +
        'set --\n' +
        fields +
        groups +
        'if [ "$#" -gt 0 ]; then\n' +
        '  fl_changed\n' +
        sh`  if fl_apply; then usermod "$@" ${args.name}; fi\n` +
        'fi\n'
      : '';
  return (
    renderCreate(args) +
    modify +
    renderPassword(args, ctx) +
    renderKeys(args)
  );
}

function renderAbsent(args: UserArgs): string {
  return (
    sh`if getent passwd ${args.name} >/dev/null; then\n` +
    '  fl_changed\n' +
    sh`  fl_diff_value ${`user ${args.name}`} user present absent\n` +
    sh`  if fl_apply; then userdel ${args.removeHome ? ['--remove', args.name] : [args.name]}; fi\n` +
    'fi\n'
  );
}

// Alpine's busybox has adduser only: the shadow tools come from its `shadow` package.
const SHADOW_TOOLS = "if ! command -v useradd >/dev/null 2>&1; then fl_fail 'useradd/usermod are not installed on the node (Alpine: apk add shadow)'; fi\n";

/** `user`: a local account (create, manage, lock, remove) with shell, home, uid, groups, password hash and authorized keys. */
export const userAction = defineAction({
  name: 'user',
  summary: 'a local user: create/manage/lock/remove; uid, group(s), home, shell, comment, password hash from a controller file (shown as ***), authorized keys',
  doc:
    'Looks the user up with `getent passwd`, creates it with `useradd`, changes differing uid, comment, home, shell, primary ' +
    'and supplementary groups in one `usermod` call, sets the password hash from `passwordFrom` (a controller file delivered out of band per run) through `chpasswd --encrypted` on stdin (the hash ' +
    'never appears in a plan, a label, a diff, output or a command line: `***`), locks/unlocks with `usermod --lock/--unlock`, and makes sure each ' +
    'authorized key is a line of `~/.ssh/authorized_keys` (a file missing its final newline gets one before a key is ' +
    'appended; other keys are kept; `.ssh` 0700 and the file 0600, owned by the user). `groups` is the exact set of ' +
    'supplementary groups. `ensure: "absent"` removes the user with `userdel` (`removeHome` adds `--remove`).',
  schema: userSchema,
  label: (args) => `user ${args.name}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render: (args, ctx) => SHADOW_TOOLS + (args.ensure === 'absent' ? renderAbsent(args) : renderPresent(args, ctx)),
});
