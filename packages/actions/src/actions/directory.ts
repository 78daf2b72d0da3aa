import { z } from 'zod';
import { renderMetadata } from '../meta.js';
import { defineAction } from '../define.js';
import { absolutePath, fileMode, principal } from '../schemas.js';
import { sh } from '../sh.js';

/** Arguments of the `directory` action. */
export const directorySchema = z
  .strictObject({
    path: absolutePath.describe('absolute path of the directory'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent (removed with everything in it)'),
    owner: principal.optional().describe('user name or uid'),
    group: principal.optional().describe('group name or gid'),
    mode: fileMode.optional().describe('octal mode, e.g. "0755"'),
    parents: z.boolean().default(true).describe('create missing parent directories (default true)'),
  })
  .superRefine((args, ctx) => {
    if (args.path === '/') ctx.addIssue({ code: 'custom', path: ['path'], message: 'refusing to manage /' });
    if (args.ensure === 'absent' && (args.owner !== undefined || args.group !== undefined || args.mode !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'ensure "absent" takes no owner, group or mode' });
    }
  });

/** Parsed arguments of the `directory` action. */
export type DirectoryArgs = z.output<typeof directorySchema>;

/** `directory`: a directory exists (with owner, group, mode) or is removed. */
export const directoryAction = defineAction({
  name: 'directory',
  summary: 'a directory with owner, group and mode (parents created), or removed with its content',
  doc:
    'Fails when something that is not a directory is in the way (a symbolic link too: it is never followed). `ensure: "absent"` ' +
    'removes the directory recursively. Below a directory other users than root can change, the directory is created (and its ' +
    'mode set) by its owner, never by root, so a link planted there cannot redirect it; without an owner that is refused.',
  schema: directorySchema,
  label: (args) => `directory ${args.path}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render(args) {
    const p = args.path;
    if (args.ensure === 'absent') {
      return (
        sh`if [ -e ${p} ] && { [ ! -d ${p} ] || [ -L ${p} ]; }; then fl_fail ${`${p} is not a directory`}; fi\n` +
        sh`if [ -d ${p} ]; then\n` +
        '  fl_changed\n' +
        sh`  fl_diff_value ${p} directory present absent\n` +
        sh`  if fl_apply; then fl_run_at ${p} rm -rf -- ${p}; fi\n` +
        'fi\n'
      );
    }
    // created by root only where only root can change the directories above it; elsewhere by its owner
    const make = sh`mkdir ${args.parents ? ['-p', '--', p] : ['--', p]}`;
    return (
      sh`if [ -L ${p} ]; then fl_fail ${`${p} is a symbolic link, not a directory: refusing to follow it`}; fi\n` +
      sh`if [ -e ${p} ] && [ ! -d ${p} ]; then fl_fail ${`${p} exists and is not a directory`}; fi\n` +
      sh`if [ ! -d ${p} ]; then\n` +
      '  fl_changed\n' +
      sh`  fl_diff_value ${p} directory absent present\n` +
      '  if fl_apply; then\n' +
      sh`    fl_chain ${p}\n` +
      `    if [ "$fl_unsafe" = 0 ]; then ${make}; else ` +
      sh`fl_as ${args.owner ?? '0'} ` +
      `${make}; fi\n` +
      '  fi\n' +
      'fi\n' +
      renderMetadata(p, { owner: args.owner, group: args.group, mode: args.mode })
    );
  },
});
