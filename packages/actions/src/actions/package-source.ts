import { InputError } from '@forklift/contract/lite';
import { z } from 'zod';
import { defineAction } from '../define.js';
import { httpUrl, noNul } from '../schemas.js';
import { sh } from '../sh.js';
import type { OsFamily, RenderContext } from '../types.js';

const word = (what: string) => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/+-]*$/, `must be ${what} (letters, digits, . _ / + -)`);
const oneLine = noNul.refine((value) => !/[\u0000-\u001f\u007f]/.test(value), { message: 'must be one line without control characters' });

/** Arguments of the `package-source` action. */
export const packageSourceSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ and - (it names the files)')
      .describe('names the source and key files'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    url: httpUrl.optional().describe('repository URL (apt URIs / yum baseurl)'),
    suites: z.array(word('a suite')).min(1).optional().describe('apt: suites, e.g. ["bookworm"]'),
    components: z.array(word('a component')).optional().describe('apt: components, e.g. ["main"]'),
    architectures: z.array(word('an architecture')).optional().describe('apt: restrict to these architectures'),
    key: noNul
      .refine((value) => value.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'), { message: 'must be an ASCII-armored OpenPGP public key' })
      .optional()
      .describe('apt: the repository key (ASCII-armored), written to /etc/apt/keyrings/NAME.asc and used as signed-by'),
    format: z.enum(['deb822', 'one-line']).default('deb822').describe('apt: NAME.sources (deb822, default) or NAME.list (one-line)'),
    description: oneLine.optional().describe('yum: the repository name shown by dnf'),
    gpgKeyUrl: httpUrl.optional().describe('yum: gpgkey URL (enables gpgcheck)'),
  })
  .superRefine((args, ctx) => {
    if (args.ensure === 'present' && args.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'missing' });
  });

/** Parsed arguments of the `package-source` action. */
export type PackageSourceArgs = z.output<typeof packageSourceSchema>;

interface SourceFile {
  path: string;
  content: string;
}

function header(args: PackageSourceArgs): string {
  return `# package-source ${args.name}: written by forklift, changes are overwritten\n`;
}

function aptFiles(args: PackageSourceArgs): SourceFile[] {
  if (args.suites === undefined) throw new InputError(`package-source ${args.name}: apt sources need suites (e.g. ["bookworm"])`, { code: 'bad-action-args' });
  const keyPath = `/etc/apt/keyrings/${args.name}.asc`;
  const files: SourceFile[] = [];
  if (args.key !== undefined) files.push({ path: keyPath, content: args.key.endsWith('\n') ? args.key : `${args.key}\n` });
  const components = args.components ?? [];
  if (args.format === 'deb822') {
    const lines = ['Types: deb', `URIs: ${args.url}`, `Suites: ${args.suites.join(' ')}`];
    if (components.length > 0) lines.push(`Components: ${components.join(' ')}`);
    if (args.architectures) lines.push(`Architectures: ${args.architectures.join(' ')}`);
    if (args.key !== undefined) lines.push(`Signed-By: ${keyPath}`);
    files.push({ path: `/etc/apt/sources.list.d/${args.name}.sources`, content: `${header(args)}${lines.join('\n')}\n` });
  } else {
    const options = [...(args.architectures ? [`arch=${args.architectures.join(',')}`] : []), ...(args.key !== undefined ? [`signed-by=${keyPath}`] : [])];
    const prefix = options.length > 0 ? `deb [${options.join(' ')}] ` : 'deb ';
    const lines = args.suites.map((suite) => `${prefix}${args.url} ${[suite, ...components].join(' ')}`);
    files.push({ path: `/etc/apt/sources.list.d/${args.name}.list`, content: `${header(args)}${lines.join('\n')}\n` });
  }
  return files;
}

function yumFiles(args: PackageSourceArgs): SourceFile[] {
  const lines = [`[${args.name}]`, `name=${args.description ?? args.name}`, `baseurl=${args.url}`, 'enabled=1'];
  lines.push(args.gpgKeyUrl !== undefined ? 'gpgcheck=1' : 'gpgcheck=0');
  if (args.gpgKeyUrl !== undefined) lines.push(`gpgkey=${args.gpgKeyUrl}`);
  return [{ path: `/etc/yum.repos.d/${args.name}.repo`, content: `${header(args)}${lines.join('\n')}\n` }];
}

/** Every file a source consists of, per OS family (alpine is not supported). */
const FILES_FOR: Record<OsFamily, (args: PackageSourceArgs) => SourceFile[]> = {
  debian: aptFiles,
  fedora: yumFiles,
  alpine: (args) => {
    throw new InputError(`package-source ${args.name}: not supported on alpine (manage /etc/apk/repositories with line-in-file)`, { code: 'unsupported-os' });
  },
};

/** Every path the source could have used on this family (removal also cleans the other apt format). */
function allPaths(args: PackageSourceArgs, family: OsFamily): string[] {
  if (family === 'debian')
    return [`/etc/apt/sources.list.d/${args.name}.sources`, `/etc/apt/sources.list.d/${args.name}.list`, `/etc/apt/keyrings/${args.name}.asc`];
  if (family === 'fedora') return [`/etc/yum.repos.d/${args.name}.repo`];
  return FILES_FOR[family](args).map((file) => file.path);
}

function renderFile(file: SourceFile): string {
  const dir = file.path.slice(0, file.path.lastIndexOf('/'));
  return (
    sh`printf '%s' ${file.content} >"$fl_tmp/source.new"\n` +
    sh`if [ -L ${file.path} ] || [ ! -f ${file.path} ] || ! cmp -s "$fl_tmp/source.new" ${file.path}; then\n` +
    '  fl_changed\n' +
    sh`  if [ -f ${file.path} ]; then fl_diff_files ${file.path} "$fl_tmp/source.new" ${file.path}; else fl_diff_files /dev/null "$fl_tmp/source.new" ${file.path}; fi\n` +
    sh`  if fl_apply; then mkdir -p ${dir} && fl_write "$fl_tmp/source.new" ${file.path} 0 0 644 0; fi\n` +
    'fi\n' +
    sh`if [ -f ${file.path} ]; then fl_meta ${file.path} '' '' 644; fi\n`
  );
}

function renderSource(args: PackageSourceArgs, ctx: RenderContext): string {
  const family = ctx.facts.family;
  if (args.ensure === 'absent') {
    return allPaths(args, family)
      .map((path) => sh`if [ -e ${path} ]; then\n  fl_changed\n  fl_diff_files ${path} /dev/null ${path}\n  if fl_apply; then rm -f ${path}; fi\nfi\n`)
      .join('');
  }
  const files = FILES_FOR[family](args);
  // The other apt format would list the same repository twice: remove it.
  const stale = allPaths(args, family).filter((path) => !files.some((file) => file.path === path) && !path.endsWith('.asc'));
  return (
    files.map(renderFile).join('') +
    stale
      .map((path) => sh`if [ -e ${path} ]; then\n  fl_changed\n  fl_diff_files ${path} /dev/null ${path}\n  if fl_apply; then rm -f ${path}; fi\nfi\n`)
      .join('') +
    'rm -f "$fl_tmp/source.new"\n'
  );
}

/** `package-source`: an apt repository with its signing key (deb822 or one-line) or a yum repo file. */
export const packageSourceAction = defineAction({
  name: 'package-source',
  summary: 'an apt repository + signed-by key (deb822 .sources or one-line .list) or a yum .repo file',
  doc:
    'Debian/Ubuntu: writes the key to `/etc/apt/keyrings/NAME.asc` and `/etc/apt/sources.list.d/NAME.sources` (deb822, ' +
    "default) or `NAME.list` (one-line) with `signed-by` pointing at it; the other format's file is removed. Fedora/RHEL: " +
    '`/etc/yum.repos.d/NAME.repo`. Files are compared byte for byte, diffed and written 0644 only when they differ. The ' +
    'index is refreshed by the next `package` action that installs something (at most once per phase). Not supported on ' +
    'Alpine (a render error). `absent` removes every file the source may have written.',
  schema: packageSourceSchema,
  label: (args) => `package-source ${args.name}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render: renderSource,
});
