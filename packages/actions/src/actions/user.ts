import { z } from 'zod';
import { defineAction } from '../define.js';
import { absolutePath, noNul } from '../schemas.js';
import { raw, sh } from '../sh.js';
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
      .refine((value) => !/[:\u0000-\u001f\u007f]/.test(value), {
        message: 'must not contain ":" or control characters (line breaks, tabs) — /etc/passwd cannot store them',
      })
      .optional()
      .describe('GECOS comment (full name)'),
    system: z.boolean().default(false).describe('create a system account (only used when the user is created)'),
    password: z.unknown().optional().describe('not accepted: a hash inside the spec would travel inside the plan; use passwordFrom'),
    passwordFrom: z
      .string()
      .min(1)
      .optional()
      .describe(
        'a controller file (relative to the spec\'s project) whose first line is the crypt(3) hash ("$y$..." or "*"): delivered out of band per run, never in a record or on a command line; shown as ***',
      ),
    locked: z.boolean().optional().describe('lock (true) or unlock (false) the password (usermod --lock/--unlock)'),
    authorizedKeys: z.array(authorizedKey).optional().describe('public keys that must be in ~/.ssh/authorized_keys (others are kept)'),
    removeHome: z.boolean().default(false).describe('with ensure "absent": also remove the home directory and mail spool'),
  })
  .superRefine((args, ctx) => {
    if (args.password !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'a password hash may not be written into the spec (it would travel inside the plan record): put it in a controller file and use passwordFrom',
      });
    }
    if (args.ensure === 'absent') {
      const extra = (['uid', 'group', 'groups', 'home', 'createHome', 'shell', 'comment', 'passwordFrom', 'locked', 'authorizedKeys'] as const).filter(
        (key) => args[key] !== undefined,
      );
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

// The account's passwd line, read once (fl_entry: /etc/passwd read with builtins, `getent` only for an account
// that is not there) and split with builtins: an unchanged check of a local account starts `id -Gn` only when
// groups are managed.
const READ_ENTRY =
  '# shellcheck disable=SC2034 # not every field is compared\nIFS=: read -r _ _ fl_have_uid fl_have_gid fl_have_comment fl_have_home fl_have_shell <<EOF\n$fl_entry\nEOF\n';

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
    sh`fl_getent passwd ${args.name}\n` +
    'if [ -z "$fl_entry" ]; then\n' +
    '  fl_changed\n' +
    sh`  fl_diff_value ${`user ${args.name}`} user absent present\n` +
    '  if ! fl_apply; then exit 0; fi\n' +
    sh`  ${command}\n` +
    sh`  fl_getent passwd ${args.name}\n` +
    'fi\n' +
    READ_ENTRY
  );
}

/** One passwd field compared with the wanted value; a difference adds usermod options to "$@". */
function renderField(args: UserArgs, variable: string, attribute: string, option: string, wanted: string | number | undefined): string {
  if (wanted === undefined) return '';
  return (
    sh`if [ "$${raw(variable)}" != ${wanted} ]; then\n` +
    sh`  fl_diff_value ${`user ${args.name}`} ${attribute} "$${raw(variable)}" ${wanted}\n` +
    sh`  set -- "$@" ${option} ${wanted}\n` +
    'fi\n'
  );
}

function renderGroups(args: UserArgs): string {
  if (args.group === undefined && args.groups === undefined) return '';
  // the primary group first, then the supplementary ones (as id -Gn lists them): from /etc/group with builtins for
  // an account of /etc/passwd whose primary group is there, else id -Gn
  let out =
    'if [ "$fl_local" = 1 ]; then\n' +
    sh`  fl_groups_of ${args.name} "$fl_have_gid"\n` +
    'else\n' +
    sh`  fl_gids=$(id -Gn ${args.name})\n` +
    'fi\n' +
    'fl_primary=${fl_gids%% *}\n';
  if (args.group !== undefined) {
    out +=
      sh`if [ "$fl_primary" != ${args.group} ]; then\n` +
      sh`  fl_diff_value ${`user ${args.name}`} group "$fl_primary" ${args.group}\n` +
      sh`  set -- "$@" --gid ${args.group}\n` +
      'fi\n';
  }
  if (args.groups !== undefined) {
    const wanted = sortedNames(args.groups);
    // Compared as sets, without the primary group (id -Gn lists it; listing it in groups is harmless); no sort process.
    out +=
      "fl_want=''\nfl_n=0\n" +
      sh`for fl_g in ${wanted.length > 0 ? wanted : raw('')}; do\n` +
      '  if [ "$fl_g" != "$fl_primary" ]; then fl_want="$fl_want $fl_g"; fl_n=$((fl_n + 1)); fi\n' +
      'done\n' +
      "fl_have=''\nfl_m=0\nfl_same=1\n" +
      '# shellcheck disable=SC2086 # group names, split on purpose\n' +
      'for fl_g in ${fl_gids#"$fl_primary"}; do\n' +
      '  if [ "$fl_g" = "$fl_primary" ]; then continue; fi\n' +
      '  fl_have="$fl_have $fl_g"\n' +
      '  fl_m=$((fl_m + 1))\n' +
      '  case "$fl_want " in *" $fl_g "*) ;; *) fl_same=0 ;; esac\n' +
      'done\n' +
      'if [ "$fl_m" != "$fl_n" ]; then fl_same=0; fi\n' +
      'if [ "$fl_same" = 0 ]; then\n' +
      sh`  fl_diff_value ${`user ${args.name}`} groups "$${raw('{fl_have# }')}" "$${raw('{fl_want# }')}"\n` +
      sh`  set -- "$@" --groups ${wanted.join(',')}\n` +
      'fi\n';
  }
  return out;
}

function renderPassword(args: UserArgs, ctx: RenderContext): string {
  let out = '';
  // one lookup (/etc/shadow read with builtins; getent when not there); the hash is the second field
  const readHash = sh`fl_getent shadow ${args.name}\n` + 'fl_hash=${fl_entry#*:}\nfl_hash=${fl_hash%%:*}\n';
  if (args.passwordFrom !== undefined || args.locked !== undefined) out += readHash;
  if (args.passwordFrom !== undefined) {
    // The hash comes from a file delivered out of band; it reaches chpasswd on stdin (printf is a builtin: never on argv).
    const word = ctx.upload(args.passwordFrom, { sensitive: true });
    out +=
      `fl_want=''\nIFS= read -r fl_want <${word} || :\n` +
      'case $fl_want in\n' +
      "  *[!A-Za-z0-9./\\$*=+,_-]* | '') " +
      sh`fl_fail ${`user ${args.name}: passwordFrom must hold a crypt(3) hash like $y$... or * on its first line (no ":" or blanks)`} ;;\n` +
      "  '$'* | '*'*) ;;\n" +
      '  *) ' +
      sh`fl_fail ${`user ${args.name}: passwordFrom must hold a crypt(3) hash starting with $ or *`} ;;\n` +
      'esac\n' +
      'if [ "${fl_hash#!}" != "$fl_want" ]; then\n' +
      '  fl_changed\n' +
      sh`  fl_diff_value ${`user ${args.name}`} password ${MASK} ${`${MASK} (new hash)`}\n` +
      '  if fl_apply; then\n' +
      sh`    printf '%s:%s\\n' ${args.name} "$fl_want" | chpasswd --encrypted\n` +
      // A locked account stays locked when its hash changes (chpasswd unlocks), unless locked: false says otherwise.
      (args.locked === false ? '' : '    case $fl_hash in !?*) ' + sh`usermod --lock ${args.name}` + ' ;; esac\n') +
      readHash.replace(/^/gm, '    ') +
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

// Run by the account itself where other users than root can change ~/.ssh or a directory above it (else by root):
// a link planted in the home can then only reach what the account may write anyway. argv: SSH_DIR KEY...
const KEYS_SCRIPT = `set -e
umask 077
s=$1
shift
k=$s/authorized_keys
if [ -L "$s" ] || [ -L "$k" ]; then echo "forklift: $s or $k is a symbolic link: refusing to follow it" >&2; exit 1; fi
[ -d "$s" ] || mkdir -- "$s"
chmod 700 -- "$s"
t=$(mktemp "$s/.authorized_keys.XXXXXX")
trap 'rm -f "$t"' EXIT
if [ -f "$k" ]; then
  cat -- "$k" >"$t"
  if [ -s "$t" ] && [ "$(tail -c 1 "$t" | wc -l)" -eq 0 ]; then printf '\\n' >>"$t"; fi
fi
for key in "$@"; do grep -qxF -e "$key" "$t" || printf '%s\\n' "$key" >>"$t"; done
chmod 600 -- "$t"
if [ -f "$k" ] && cmp -s "$t" "$k"; then exit 0; fi
mv -fT -- "$t" "$k"`;

function renderKeys(args: UserArgs): string {
  const keys = args.authorizedKeys;
  if (keys === undefined || keys.length === 0) return '';
  const label = `user ${args.name}`;
  let out =
    // home, uid and gid from the passwd line read at the start of the block
    'fl_kuid=$fl_have_uid\n' +
    'fl_kgid=$fl_have_gid\n' +
    'fl_ssh="$fl_have_home/.ssh"\n' +
    'fl_keys="$fl_ssh/authorized_keys"\n' +
    'fl_keys_fix=0\n' +
    // (the label is `user NAME`, NAME a plain account name: safe inside double quotes)
    `if [ -L "$fl_ssh" ]; then fl_fail "$fl_ssh is a symbolic link: refusing to follow it (${label})"; fi\n` +
    `if [ -L "$fl_keys" ]; then fl_fail "$fl_keys is a symbolic link: refusing to follow it (${label})"; fi\n` +
    `if [ -e "$fl_ssh" ] && [ ! -d "$fl_ssh" ]; then fl_fail "$fl_ssh is not a directory (${label})"; fi\n` +
    'if [ ! -d "$fl_ssh" ]; then\n' +
    '  fl_keys_fix=1\n' +
    sh`  fl_diff_value "$fl_ssh" ${`directory (${label})`} absent present\n` +
    'fi\n' +
    // the keys present, read with builtins (a file missing its final newline still counts its last line)
    "fl_all='\n'\n" +
    'if [ -f "$fl_keys" ]; then\n' +
    '  while IFS= read -r fl_l || [ -n "$fl_l" ]; do fl_all="$fl_all$fl_l\n"; done <"$fl_keys"\n' +
    'fi\n';
  for (const key of keys) {
    out +=
      'case $fl_all in\n' +
      `  *"\n"${sh`${key}`}"\n"*) ;;\n` +
      '  *)\n' +
      '    fl_keys_fix=1\n' +
      sh`    fl_diff_value "$fl_keys" ${`authorized key (${label})`} '' ${key} ;;\n` +
      'esac\n';
  }
  out +=
    // ownership and modes of both in one stat
    // ownership and modes of both with one stat
    'if [ -e "$fl_keys" ]; then set -- "$fl_ssh" 700 "$fl_keys" 600; elif [ -e "$fl_ssh" ]; then set -- "$fl_ssh" 700; else set --; fi\n' +
    'if [ "$#" -gt 0 ]; then\n' +
    '  if [ "$#" -gt 2 ]; then fl_lines=$(stat -c \'%u:%g %a\' -- "$1" "$3"); else fl_lines=$(stat -c \'%u:%g %a\' -- "$1"); fi\n' +
    '  while IFS= read -r fl_have; do\n' +
    '    if [ "$fl_have" != "$fl_kuid:$fl_kgid $2" ]; then\n' +
    '      fl_keys_fix=1\n' +
    '      fl_diff_value "$1" ownership "$fl_have" "$fl_kuid:$fl_kgid $2"\n' +
    '    fi\n' +
    '    shift 2\n' +
    '  done <<EOF\n$fl_lines\nEOF\n' +
    'fi\n' +
    'if [ "$fl_keys_fix" = 1 ]; then\n' +
    '  fl_changed\n' +
    '  if fl_apply; then\n' +
    // ownership first, by root, never following a link (chown -h); then the keys, by the account where needed
    '    for fl_p in "$fl_ssh" "$fl_keys"; do if [ -e "$fl_p" ]; then chown -h -- "$fl_kuid:$fl_kgid" "$fl_p"; fi; done\n' +
    '    fl_chain "$fl_keys"\n' +
    '    if [ "$fl_unsafe" = 0 ]; then\n' +
    sh`      sh -c ${KEYS_SCRIPT} fl-keys "$fl_ssh" ${keys}\n` +
    '      chown -h -- "$fl_kuid:$fl_kgid" "$fl_ssh" "$fl_keys"\n' +
    '    else\n' +
    sh`      fl_as "$fl_kuid" sh -c ${KEYS_SCRIPT} fl-keys "$fl_ssh" ${keys}\n` +
    '    fi\n' +
    '  fi\n' +
    'fi\n';
  return out;
}

function renderPresent(args: UserArgs, ctx: RenderContext): string {
  const fields =
    renderField(args, 'fl_have_uid', 'uid', '--uid', args.uid) +
    renderField(args, 'fl_have_comment', 'comment', '--comment', args.comment) +
    renderField(args, 'fl_have_home', 'home', '--home', args.home) +
    renderField(args, 'fl_have_shell', 'shell', '--shell', args.shell);
  const groups = renderGroups(args);
  const modify =
    fields || groups
      ? 'set --\n' +
        fields +
        groups +
        'if [ "$#" -gt 0 ]; then\n' +
        '  fl_changed\n' +
        '  if fl_apply; then\n' +
        sh`    usermod "$@" ${args.name}\n` +
        sh`    fl_getent passwd ${args.name}\n` +
        READ_ENTRY +
        '  fi\n' +
        'fi\n'
      : '';
  return renderCreate(args) + modify + renderPassword(args, ctx) + renderKeys(args);
}

function renderAbsent(args: UserArgs): string {
  return (
    // userdel/groupdel act on the local files only: an account elsewhere (NSS) is not theirs to remove
    sh`fl_getent passwd ${args.name} local\n` +
    'if [ -n "$fl_entry" ]; then\n' +
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
    'Looks the user up in `/etc/passwd` (with shell builtins; `getent passwd` for an account that is not there), creates it with `useradd`, changes differing uid, comment, home, shell, primary ' +
    'and supplementary groups in one `usermod` call, sets the password hash from `passwordFrom` (a controller file delivered out of band per run) through `chpasswd --encrypted` on stdin (the hash ' +
    'never appears in a plan, a label, a diff, output or a command line: `***`), locks/unlocks with `usermod --lock/--unlock`, and makes sure each ' +
    'authorized key is a line of `~/.ssh/authorized_keys` (a file missing its final newline gets one before a key is ' +
    'appended; other keys are kept; `.ssh` 0700 and the file 0600, owned by the user). A symbolic link at `~/.ssh` or ' +
    '`authorized_keys` fails the action and is never followed; ownership is set with `chown -h`, and the keys file is written ' +
    '(temporary file + rename) by the account itself when the account can change its home, so a link it planted reaches ' +
    'nothing more than it may write already. `groups` is the exact set of ' +
    'supplementary groups. `ensure: "absent"` removes the user with `userdel` (`removeHome` adds `--remove`).',
  schema: userSchema,
  label: (args) => `user ${args.name}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render: (args, ctx) => SHADOW_TOOLS + (args.ensure === 'absent' ? renderAbsent(args) : renderPresent(args, ctx)),
});
