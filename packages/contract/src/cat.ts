import type { ToolDefinition } from './tool.js';
import { CONTRACT_VERSION } from './version.js';

/**
 * forklift-cat: validates an NDJSON record stream and passes it through unchanged
 * (node records re-emitted, unknown kinds byte-for-byte), then writes its summary.
 */
export const forkliftCatTool: ToolDefinition = {
  name: 'forklift-cat',
  version: CONTRACT_VERSION,
  stdin: 'required',
  maxArgs: 0,
  usage: `forklift-cat — validate a forklift record stream and pass it through

Usage:
  ... | forklift-cat [--max-line-bytes N] [--debug]

Reads NDJSON records on stdin, validates each known kind against the contract,
and writes every record back out in order, then a summary record.`,
  failure: 'never (a record that is not valid is exit 65)',
  async run(ctx) {
    await ctx.flushInput();
    const counts: Record<string, number> = { nodes: ctx.nodes.length };
    return { ok: true, counts };
  },
};
