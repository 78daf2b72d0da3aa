import { z } from 'zod';
import { defineAction } from '../define.js';
import { noNul } from '../schemas.js';
import { sh } from '../sh.js';
import { accountName } from './group.js';

const FIELD = '[A-Za-z0-9*/,-]+';
const SCHEDULE = new RegExp(`^(@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)|${FIELD}( ${FIELD}){4})$`);

/** Arguments of the `cron` action. */
export const cronSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, "must be letters, digits, _ . - (it names the entry's marker comment)")
      .describe("the entry's name: its marker comment `# forklift:NAME` owns the line after it"),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    schedule: z
      .string()
      .regex(SCHEDULE, 'must be five cron fields like "*/5 * * * *" or one of @reboot @hourly @daily @weekly @monthly @yearly')
      .optional()
      .describe('when: five cron fields or @daily etc.'),
    command: noNul
      .min(1, 'must not be empty')
      .refine((value) => !/[\r\n]/.test(value), { message: 'must be one line (cron entries cannot span lines)' })
      .optional()
      .describe('the command line, written verbatim (cron turns an unescaped % into a newline)'),
    user: accountName.default('root').describe('the user the command runs as (default root)'),
    target: z.enum(['cron.d', 'crontab']).default('cron.d').describe("cron.d (a file under /etc/cron.d, default) or crontab (the user's own crontab)"),
    file: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ and - (cron ignores other names in /etc/cron.d)')
      .default('forklift')
      .describe('the /etc/cron.d file (default forklift)'),
  })
  .superRefine((args, ctx) => {
    if (args.ensure === 'present') {
      if (args.schedule === undefined) ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'missing' });
      if (args.command === undefined) ctx.addIssue({ code: 'custom', path: ['command'], message: 'missing' });
    }
  });

/** Parsed arguments of the `cron` action. */
export type CronArgs = z.output<typeof cronSchema>;

// Keeps every line except the marker of this entry and the line after it; puts the block file's lines where the
// entry was (or at the end). The marker is a safe word, so awk -v passes it unchanged.
const SPLICE =
  'BEGIN { while ((getline line < block) > 0) text = text line "\\n" }\n' +
  'skip { skip = 0; next }\n' +
  '$0 == marker { if (!done) printf "%s", text; done = 1; skip = 1; next }\n' +
  '{ print }\n' +
  'END { if (!done) printf "%s", text }';

/** The marker comment that owns the next line. @example cronMarker('backup') // '# forklift:backup' */
export function cronMarker(name: string): string {
  return `# forklift:${name}`;
}

function entryLine(args: CronArgs): string {
  return args.target === 'cron.d' ? `${args.schedule} ${args.user} ${args.command}` : `${args.schedule} ${args.command}`;
}

/** `cron`: one named entry in /etc/cron.d/FILE or in a user's crontab, owned by its marker comment and replaced in place. */
export const cronAction = defineAction({
  name: 'cron',
  summary: 'a named cron entry in /etc/cron.d (default) or a user crontab, replaced in place by name, or removed',
  doc:
    'Each entry is two lines: the marker `# forklift:NAME` and the entry. The action rewrites only its own two lines (in ' +
    'place, or appended), compares the result with `cmp` and writes it only when it differs, with a unified diff. cron.d ' +
    'files are written root:root 0644 through a temporary dot-file (which cron ignores) and a rename; a file left empty is ' +
    'removed. User crontabs go through `crontab -u USER` (`-r` when empty). The command is written verbatim: cron turns an ' +
    'unescaped `%` into a newline.',
  schema: cronSchema,
  label: (args) =>
    `cron ${args.name} (${args.target === 'cron.d' ? `/etc/cron.d/${args.file}` : `crontab of ${args.user}`})${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render(args) {
    const block =
      args.ensure === 'present' ? sh`printf '%s\\n' ${cronMarker(args.name)} ${entryLine(args)} >"$fl_tmp/cron.block"\n` : ': >"$fl_tmp/cron.block"\n';
    const splice = sh`awk -v block="$fl_tmp/cron.block" -v marker=${cronMarker(args.name)} ${SPLICE} "$fl_tmp/cron.old" >"$fl_tmp/cron.new"\n`;
    if (args.target === 'cron.d') {
      const path = `/etc/cron.d/${args.file}`;
      const temp = `/etc/cron.d/.${args.file}.forklift`;
      return (
        block +
        // the file itself is read (no copy): an unchanged entry costs awk and cmp
        sh`if [ -f ${path} ]; then fl_old=${path}; else fl_old=/dev/null; fi\n` +
        splice.replace('"$fl_tmp/cron.old"', '"$fl_old"') +
        'if ! cmp -s "$fl_old" "$fl_tmp/cron.new"; then\n' +
        '  fl_changed\n' +
        sh`  fl_diff_files "$fl_old" "$fl_tmp/cron.new" ${path}\n` +
        '  if fl_apply; then\n' +
        '    if [ -s "$fl_tmp/cron.new" ]; then\n' +
        sh`      mkdir -p /etc/cron.d && cat "$fl_tmp/cron.new" >${temp} && chmod 0644 ${temp} && chown 0:0 ${temp} && mv -f ${temp} ${path}\n` +
        '    else\n' +
        sh`      rm -f ${path}\n` +
        '    fi\n' +
        '  fi\n' +
        'fi\n'
      );
    }
    const label = `crontab of ${args.user}`;
    return (
      "if ! command -v crontab >/dev/null 2>&1; then fl_fail 'crontab is not installed on the node (Debian: apt-get install cron)'; fi\n" +
      block +
      sh`crontab -u ${args.user} -l >"$fl_tmp/cron.old" 2>/dev/null || : >"$fl_tmp/cron.old"\n` +
      splice +
      'if ! cmp -s "$fl_tmp/cron.old" "$fl_tmp/cron.new"; then\n' +
      '  fl_changed\n' +
      sh`  fl_diff_files "$fl_tmp/cron.old" "$fl_tmp/cron.new" ${label}\n` +
      '  if fl_apply; then\n' +
      '    if [ -s "$fl_tmp/cron.new" ]; then\n' +
      sh`      crontab -u ${args.user} "$fl_tmp/cron.new"\n` +
      '    else\n' +
      sh`      crontab -u ${args.user} -r\n` +
      '    fi\n' +
      '  fi\n' +
      'fi\n'
    );
  },
});
