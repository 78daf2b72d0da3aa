import { z } from 'zod';
import { defineAction } from '../registry.js';
import { absolutePath, noNul } from '../schemas.js';
import { raw, sh } from '../sh.js';

/** Arguments of the `exec` action. */
export const execSchema = z
  .strictObject({
    script: noNul.min(1).optional().describe('sh code, run with `sh -c` (it is code: only its guards make it idempotent)'),
    command: z.array(noNul).min(1).optional().describe('a command and its arguments, each passed as one word'),
    creates: absolutePath.optional().describe('skip when this path exists'),
    unless: noNul.min(1).optional().describe('sh code: skip when it succeeds'),
    onlyIf: noNul.min(1).optional().describe('sh code: run only when it succeeds'),
    cwd: absolutePath.optional().describe('working directory'),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names match [A-Za-z_][A-Za-z0-9_]*'), noNul).optional().describe('extra environment variables'),
  })
  .superRefine((args, ctx) => {
    if ((args.script === undefined) === (args.command === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of script, command' });
  });

/** Parsed arguments of the `exec` action. */
export type ExecArgs = z.output<typeof execSchema>;

/** `exec`: run a script or command, guarded by creates / unless / onlyIf; reports changed when it ran. */
export const execAction = defineAction({
  name: 'exec',
  summary: 'run a script or a command, guarded by creates, unless and onlyIf (changed when it runs)',
  doc:
    'Without a guard the command runs (and reports changed) every time. Guards run with `sh -c`, their output hidden. ' +
    'In plan mode guards run, the command does not: the block reports that it would run. Neither sees the run nonce.',
  schema: execSchema,
  label: (args) => `exec ${(args.script ?? args.command!.join(' ')).split('\n')[0]!.slice(0, 60)}`,
  render(args) {
    let out = '';
    if (args.cwd !== undefined) out += sh`cd ${args.cwd}\n`;
    if (args.creates !== undefined) out += sh`if [ -e ${args.creates} ] || [ -L ${args.creates} ]; then exit 0; fi\n`;
    if (args.unless !== undefined) out += sh`if sh -c ${args.unless} >/dev/null 2>&1; then exit 0; fi\n`;
    if (args.onlyIf !== undefined) out += sh`if ! sh -c ${args.onlyIf} >/dev/null 2>&1; then exit 0; fi\n`;
    const env = Object.keys(args.env ?? {})
      .sort()
      .map((name) => `${name}=${args.env![name]!}`);
    const run = args.script !== undefined ? sh`sh -c ${args.script}` : sh`${args.command!}`;
    const withEnv = env.length > 0 ? sh`env ${env} ` + run : run;
    out += 'fl_changed\n';
    out += sh`if fl_apply; then ${raw(withEnv)}; else fl_say ${`would run: ${args.script ?? args.command!.join(' ')}`}; fi\n`;
    return out;
  },
});
