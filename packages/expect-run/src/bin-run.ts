import mri from 'mri';
import { Writable } from 'node:stream';
import { ExitCode, main, type ToolIo } from '@forklift/contract';
import { createExpectRunTool, EXPECT_RUN_FLAGS } from './tool.js';

function wantsTap(argv: string[]): boolean {
  const parsed = mri(argv, { boolean: [...EXPECT_RUN_FLAGS.boolean, 'help', 'version', 'debug'], string: EXPECT_RUN_FLAGS.string });
  return parsed.tap === true && parsed.help !== true && parsed.version !== true;
}

/**
 * expect-run in-process: contract's main() with the expect-run tool; with --tap, stdout gets TAP 14
 * and the record stream (pass-through and summary) is discarded.
 * @example const code = await expectRunMain(['test/', '--tap'], { stdin, stdout, stderr, env: {} })
 */
export function expectRunMain(argv: string[], io: ToolIo): Promise<number> {
  if (!wantsTap(argv)) return main(createExpectRunTool(), argv, io);
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return main(createExpectRunTool({ tapOut: io.stdout }), argv, { ...io, stdout: discard });
}

/**
 * The whole of bin/expect-run: contract's runBin() behaviour (SIGINT/SIGTERM abort, a second one
 * exits at once) around expectRunMain, which needs the raw stdout for --tap.
 */
export async function runExpectRunBin(): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', () => undefined);
  const code = await expectRunMain(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = code;
  if (process.stdin.readable) process.stdin.destroy();
  // test files may leave timers or sockets open (a server they started), and the module loader
  // thread keeps the loop alive: exit once stdout and stderr have taken everything
  const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => (stream.writableEnded || stream.destroyed ? resolve() : stream.write('', () => resolve())));
  await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  process.exit(code);
}
