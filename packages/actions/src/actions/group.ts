import { z } from 'zod';
import { defineAction } from '../define.js';
import { sh } from '../sh.js';

/** A user or group name as Debian's useradd/groupadd accept it by default (NAME_REGEX), at most 32 characters. */
export const accountName = z
  .string()
  .max(32, 'must be at most 32 characters')
  .regex(/^[a-z_][a-z0-9_-]*\$?$/, 'must be a user/group name: lowercase letters, digits, _ and -, starting with a letter or _');

/** Arguments of the `group` action. */
export const groupSchema = z
  .strictObject({
    name: accountName.describe('group name'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    gid: z.number().int().min(0).max(4294967294).optional().describe('numeric group id (changed with groupmod when it differs)'),
    system: z.boolean().default(false).describe('create as a system group (only used when the group is created)'),
  })
  .superRefine((args, ctx) => {
    if (args.ensure === 'absent' && args.gid !== undefined) ctx.addIssue({ code: 'custom', path: ['gid'], message: 'not valid with ensure "absent"' });
  });

/** Parsed arguments of the `group` action. */
export type GroupArgs = z.output<typeof groupSchema>;

function renderPresent(args: GroupArgs): string {
  const create = ['groupadd', ...(args.system ? ['--system'] : []), ...(args.gid !== undefined ? ['--gid', args.gid] : []), args.name];
  let out =
    // one lookup: whether the group exists and (field 3) its gid (/etc/group read with builtins; getent when not there)
    sh`fl_getent group ${args.name}\n` +
    'if [ -z "$fl_entry" ]; then\n' +
    '  fl_changed\n' +
    sh`  fl_diff_value ${`group ${args.name}`} group absent present\n` +
    sh`  if fl_apply; then ${create}; fi\n` +
    '  exit 0\n' +
    'fi\n';
  if (args.gid !== undefined) {
    out +=
      'fl_rest=${fl_entry#*:*:}\n' +
      'fl_have=${fl_rest%%:*}\n' +
      sh`if [ "$fl_have" != ${args.gid} ]; then\n` +
      '  fl_changed\n' +
      sh`  fl_diff_value ${`group ${args.name}`} gid "$fl_have" ${args.gid}\n` +
      sh`  if fl_apply; then groupmod --gid ${args.gid} ${args.name}; fi\n` +
      'fi\n';
  }
  return out;
}

function renderAbsent(args: GroupArgs): string {
  return (
    // userdel/groupdel act on the local files only: an account elsewhere (NSS) is not theirs to remove
    sh`fl_getent group ${args.name} local\n` +
    'if [ -n "$fl_entry" ]; then\n' +
    '  fl_changed\n' +
    sh`  fl_diff_value ${`group ${args.name}`} group present absent\n` +
    sh`  if fl_apply; then groupdel ${args.name}; fi\n` +
    'fi\n'
  );
}

/** `group`: a local group (create with gid/system, change gid, remove) via groupadd/groupmod/groupdel. */
export const groupAction = defineAction({
  name: 'group',
  summary: 'a local group: create (gid, system), change its gid, or remove it',
  doc:
    'Looks the group up in `/etc/group` (with shell builtins; `getent group` for a group that is not there); creates it with `groupadd` (`--system`, `--gid`), changes a differing gid with ' +
    '`groupmod --gid`, removes it with `groupdel`. `system` only matters when the group is created. The same commands exist ' +
    'on Debian, Fedora/RHEL and Alpine (shadow package).',
  schema: groupSchema,
  label: (args) => `group ${args.name}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render: (args) => (args.ensure === 'absent' ? renderAbsent(args) : renderPresent(args)),
});
