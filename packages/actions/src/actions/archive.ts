import { InputError } from '@forklift/contract/lite';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineAction } from '../define.js';
import { absolutePath, httpUrl, parentDir, principal, sha256Hex } from '../schemas.js';
import { sh } from '../sh.js';
import { LOCAL_FILE_LIMIT_BYTES, localTooBig } from './file.js';

const FORMATS = ['tar', 'tar.gz', 'tar.bz2', 'tar.xz', 'zip'] as const;

/** Arguments of the `archive` action. */
export const archiveSchema = z
  .strictObject({
    path: absolutePath.describe('directory to unpack into (created when missing)'),
    url: httpUrl.optional().describe('fetch the archive on the node (curl or wget)'),
    sha256: sha256Hex.optional().describe('required with url: checked on the node before unpacking'),
    local: z
      .string()
      .min(1)
      .optional()
      .describe("a small archive on the controller (relative to the spec's project, at most 1 MiB), carried inside the plan script"),
    upload: z
      .string()
      .min(1)
      .optional()
      .describe("an archive on the controller (relative to the spec's project) of any size: delivered out of band through the node's sha256 cache"),
    format: z.enum(FORMATS).optional().describe('tar, tar.gz, tar.bz2, tar.xz or zip (default: from the file name)'),
    stripComponents: z.number().int().min(0).max(50).default(0).describe('tar only: leading path components to drop'),
    owner: principal.optional().describe('chown -R the unpacked tree to this user'),
    group: principal.optional().describe('chgrp -R the unpacked tree to this group'),
  })
  .superRefine((args, ctx) => {
    if ([args.url, args.local, args.upload].filter((value) => value !== undefined).length !== 1)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of url, local, upload' });
    if (args.url !== undefined && args.sha256 === undefined)
      ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'missing (url needs the sha256 of the archive)' });
    if ((args.local !== undefined || args.upload !== undefined) && args.sha256 !== undefined)
      ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'only valid with url (a controller archive is hashed at render time)' });
    if (args.format === undefined && formatOf(args.url ?? args.local ?? args.upload ?? '') === undefined) {
      ctx.addIssue({ code: 'custom', path: ['format'], message: `missing (cannot tell from the name; one of ${FORMATS.join(', ')})` });
    }
    if ((args.format ?? formatOf(args.url ?? args.local ?? args.upload ?? '')) === 'zip' && args.stripComponents > 0)
      ctx.addIssue({ code: 'custom', path: ['stripComponents'], message: 'not supported for zip' });
    if (args.path === '/') ctx.addIssue({ code: 'custom', path: ['path'], message: 'refusing to unpack into /' });
  });

/** Parsed arguments of the `archive` action. */
export type ArchiveArgs = z.output<typeof archiveSchema>;

function formatOf(name: string): (typeof FORMATS)[number] | undefined {
  const base = name.split(/[?#]/)[0]!.toLowerCase();
  if (base.endsWith('.tar.gz') || base.endsWith('.tgz')) return 'tar.gz';
  if (base.endsWith('.tar.bz2') || base.endsWith('.tbz2')) return 'tar.bz2';
  if (base.endsWith('.tar.xz') || base.endsWith('.txz')) return 'tar.xz';
  if (base.endsWith('.tar')) return 'tar';
  if (base.endsWith('.zip')) return 'zip';
  return undefined;
}

const TAR_FLAG: Record<string, string> = { tar: '', 'tar.gz': 'z', 'tar.bz2': 'j', 'tar.xz': 'J' };

/** `archive`: unpack a tar or zip (from a url checked by sha256, or a local file) into a directory, once per archive version. */
export const archiveAction = defineAction({
  name: 'archive',
  summary: 'unpack a tar/zip archive (url + sha256, a small local file, or an upload of any size) into a directory, again only when the archive changes',
  doc:
    'The sha256 of the last unpacked archive is remembered in `/var/lib/forklift/archive<path>.sha256`; the archive is ' +
    'unpacked when that differs or the directory is missing (files are added and overwritten, never deleted). ' +
    'zip needs `unzip` on the node. The target is never a symbolic link; below (or in) a directory other users than root can ' +
    "change, the archive is unpacked by the target's owner (`owner`, or who owns the directory), never by root; `owner`/`group` " +
    'are applied with `chown -R -h` (links themselves, never what they point to).',
  schema: archiveSchema,
  label: (args) => `archive ${args.url ?? args.local ?? args.upload} -> ${args.path}`,
  localFiles: (args) => (args.local === undefined ? [] : [args.local]),
  render(args, ctx) {
    const p = args.path;
    const format = args.format ?? formatOf(args.url ?? args.local ?? args.upload!)!;
    let want: string;
    let produce: string;
    let archive = '"$fl_tmp/archive"';
    if (args.local !== undefined) {
      const bytes = ctx.files.get(args.local);
      if (!bytes)
        throw new InputError(`archive ${p}: local file ${JSON.stringify(args.local)} was not read (render-crate passes local files in)`, {
          code: 'local-file-missing',
        });
      if (bytes.length > LOCAL_FILE_LIMIT_BYTES) throw localTooBig(`archive ${p}`, args.local, bytes.length);
      want = createHash('sha256').update(bytes).digest('hex');
      produce = sh`printf '%s' ${Buffer.from(bytes).toString('base64')} | base64 -d >"$fl_tmp/archive"\n`;
    } else if (args.upload !== undefined) {
      const uploaded = ctx.uploadFile(args.upload);
      want = uploaded.sha256!;
      archive = uploaded.word;
      produce = '';
    } else {
      want = args.sha256!;
      produce =
        sh`fl_fetch ${args.url!} "$fl_tmp/archive"\n` +
        'fl_got=$(fl_sha256 "$fl_tmp/archive")\n' +
        sh`if [ "$fl_got" != ${want} ]; then fl_fail ${`checksum mismatch for ${args.url!}: expected ${want}, got`} "$fl_got"; fi\n`;
    }
    const stamp = `${ctx.stateDir}/archive${p}.sha256`;
    // as root only where only root can change the target and the directories above it; elsewhere as the
    // target's owner (the archive reaches that user on stdin: it cannot read forklift's private files)
    const strip = args.stripComponents > 0 ? sh` --strip-components=${args.stripComponents}` : '';
    const unzip = sh`command -v unzip >/dev/null 2>&1 || fl_fail 'unzip is not installed on the node (install the unzip package)'\n`;
    const asRoot =
      sh`  mkdir -p -- ${p}\n` +
      (format === 'zip' ? `  unzip -o -q ${archive} -d ` + sh`${p}\n` : `  tar -x${TAR_FLAG[format]!}f ${archive} -C ` + sh`${p}` + strip + '\n');
    const userScript =
      format === 'zip'
        ? 'mkdir -p -- "$1" && t=$(mktemp "$1/.forklift-archive.XXXXXX") && cat >"$t" && unzip -o -q "$t" -d "$1"; rc=$?; rm -f "$t"; exit "$rc"'
        : `mkdir -p -- "$1" && tar -x${TAR_FLAG[format]!}f - -C "$1"${strip}`;
    const asOwner =
      sh`  if [ -d ${p} ]; then fl_by=$(stat -c %u -- ${p}); else fl_by=${args.owner ?? '0'}; fi\n` +
      sh`  fl_as "$fl_by" sh -c ${userScript} fl-unpack ${p} <` +
      `${archive}\n`;
    const chown =
      (args.owner !== undefined ? sh`chown -R -h -- ${args.owner} ${p}\n` : '') + (args.group !== undefined ? sh`chgrp -R -h -- ${args.group} ${p}\n` : '');
    return (
      sh`if [ -L ${p} ]; then fl_fail ${`${p} is a symbolic link: refusing to unpack through it`}; fi\n` +
      sh`if [ -e ${p} ] && [ ! -d ${p} ]; then fl_fail ${`${p} exists and is not a directory`}; fi\n` +
      'fl_have=\n' +
      sh`if [ -d ${p} ] && [ -f ${stamp} ]; then IFS= read -r fl_have <${stamp} || :; fi\n` +
      sh`if [ "$fl_have" = ${want} ]; then exit 0; fi\n` +
      'fl_changed\n' +
      sh`fl_diff_value ${p} archive "$fl_have" ${want}\n` +
      'if ! fl_apply; then exit 0; fi\n' +
      (format === 'zip' ? unzip : '') +
      produce +
      sh`fl_chain ${`${p}/.`}\n` +
      'if [ "$fl_unsafe" = 0 ]; then\n' +
      asRoot +
      'else\n' +
      asOwner +
      'fi\n' +
      chown +
      sh`mkdir -p ${parentDir(stamp)}\n` +
      sh`printf '%s\n' ${want} >${stamp}\n`
    );
  },
});
