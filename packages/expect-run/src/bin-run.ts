import { Writable } from 'node:stream';
import { main, parseArgv, runBin, type ToolIo } from '@forklift/contract/lite';
import { createExpectRunTool, EXPECT_RUN_FLAGS } from './tool.js';

function wantsTap(argv: string[]): boolean {
  try {
    const { flags } = parseArgv(argv, {
      boolean: [...EXPECT_RUN_FLAGS.boolean, 'help', 'version', 'debug', 'quiet', 'verbose'],
      string: [...EXPECT_RUN_FLAGS.string, 'max-line-bytes'],
      alias: { h: 'help', q: 'quiet', v: 'verbose' },
    });
    return flags.tap === true && flags.help !== true && flags.version !== true;
  } catch {
    return false; // main() reports the usage error
  }
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
 * The whole of bin/expect-run: contract's runBin() around expectRunMain (which needs the raw stdout
 * for --tap), exiting once output is flushed — test files may leave timers or sockets open, and the
 * module loader thread keeps the loop alive.
 */
export async function runExpectRunBin(): Promise<void> {
  await runBin(expectRunMain, { exitWhenFlushed: true });
}
