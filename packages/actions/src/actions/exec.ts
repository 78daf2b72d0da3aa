import { z } from 'zod';
import { defineAction } from '../define.js';
import { absolutePath, noNul } from '../schemas.js';
import { raw, sh } from '../sh.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names match [A-Za-z_][A-Za-z0-9_]*');

/** Arguments of the `exec` action. */
export const execSchema = z
  .strictObject({
    script: noNul.min(1).optional().describe('sh code, run in a fresh subshell (never on a command line; it is code: only its guards make it idempotent)'),
    command: z.array(noNul).min(1).optional().describe('a command and its arguments, each passed as one word'),
    creates: absolutePath.optional().describe('skip when this path exists'),
    unless: noNul.min(1).optional().describe('sh code: skip when it succeeds'),
    onlyIf: noNul.min(1).optional().describe('sh code: run only when it succeeds'),
    cwd: absolutePath.optional().describe('working directory'),
    env: z.record(envName, noNul).optional().describe('extra environment variables for the guards and the command (never on a command line)'),
    envFrom: z
      .record(envName, z.string().min(1))
      .optional()
      .describe(
        "environment variables whose values are controller files (secrets, relative to the spec's project): delivered out of band per run, never in a record; the value is the file without trailing newlines",
      ),
    sensitive: z.boolean().optional().describe("mask the label, `would run:` and the command's output as *** (for commands that handle secrets)"),
  })
  .superRefine((args, ctx) => {
    if ((args.script === undefined) === (args.command === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of script, command' });
    for (const name of Object.keys(args.envFrom ?? {})) {
      if (args.env?.[name] !== undefined) ctx.addIssue({ code: 'custom', path: ['envFrom', name], message: 'also set in env: give it once' });
    }
  });

/** Parsed arguments of the `exec` action. */
export type ExecArgs = z.output<typeof execSchema>;

const MASK = '***';

/** sh running sh code held in a variable, in a subshell without the run nonce (what `sh -c` did, off argv). */
function evalCode(code: string, exports: string): string {
  return `(${exports}` + sh`fl_code=${code}; unset fl_nonce; set +eu; eval "$fl_code")`;
}

/** `exec`: run a script or command, guarded by creates / unless / onlyIf; reports changed when it ran. */
export const execAction = defineAction({
  name: 'exec',
  summary: 'run a script or a command, guarded by creates, unless and onlyIf (changed when it runs); env from controller files; sensitive masks it',
  doc:
    'Without a guard the command runs (and reports changed) every time. Scripts and guards run as sh code in a subshell ' +
    "(`eval` of a quoted string: never on a command line, where every user of the node could read it); guards' output is hidden. " +
    'In plan mode guards run, the command does not: the block reports that it would run. Neither sees the run nonce. ' +
    '`env` and `envFrom` are exported for the guards and the command only (never on a command line); `envFrom` values come from controller ' +
    'files delivered out of band per run into a private directory. `sensitive: true` shows `exec ***` as the label, ' +
    "`would run: ***`, and hides the command's output (a failure says only its exit code).",
  schema: execSchema,
  label: (args) => (args.sensitive ? `exec ${MASK}` : `exec ${(args.script ?? args.command!.join(' ')).split('\n')[0]!.slice(0, 60)}`),
  render(args, ctx) {
    let out = '';
    if (args.cwd !== undefined) out += sh`cd ${args.cwd}\n`;
    // values reach the guards and the command through `export` inside their own subshells: never argv, and
    // never the environment of this block's own helpers
    let exports = '';
    for (const name of Object.keys(args.env ?? {}).sort()) exports += sh`${raw(name)}=${args.env![name]!}; export ${raw(name)}; `;
    Object.keys(args.envFrom ?? {})
      .sort()
      .forEach((name, index) => {
        const word = ctx.upload(args.envFrom![name]!, { sensitive: true });
        out += `fl_env${index}=$(cat ${word})\n`;
        exports += `${name}=$fl_env${index}; export ${name}; `;
      });
    if (args.creates !== undefined) out += sh`if [ -e ${args.creates} ] || [ -L ${args.creates} ]; then exit 0; fi\n`;
    if (args.unless !== undefined) out += `if ${evalCode(args.unless, exports)} >/dev/null 2>&1; then exit 0; fi\n`;
    if (args.onlyIf !== undefined) out += `if ! ${evalCode(args.onlyIf, exports)} >/dev/null 2>&1; then exit 0; fi\n`;
    const body = args.script !== undefined ? evalCode(args.script, exports) : exports ? `(${exports}exec ${sh`${args.command!}`})` : sh`${args.command!}`;
    const whatRuns = args.sensitive ? MASK : (args.script ?? args.command!.join(' '));
    out += 'fl_changed\n';
    if (args.sensitive) {
      out +=
        'if fl_apply; then\n' +
        `  if ${body} >/dev/null 2>&1; then :; else fl_rc=$?; printf 'forklift: ${MASK} failed with exit %s (output hidden: sensitive)\\n' "$fl_rc" >&2; exit "$fl_rc"; fi\n` +
        'else\n' +
        sh`  fl_say ${`would run: ${whatRuns}`}\n` +
        'fi\n';
    } else {
      out += sh`if fl_apply; then ${raw(body)}; else fl_say ${`would run: ${whatRuns}`}; fi\n`;
    }
    return out;
  },
});
