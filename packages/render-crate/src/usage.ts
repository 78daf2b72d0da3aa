import { listActions } from '@forklift/actions';

/** The --help text of render-crate, with the action list from the registry. */
export function usageText(): string {
  const actions = listActions()
    .map((action) => `  ${action.name.padEnd(15)} ${action.summary}`)
    .join('\n');
  return `render-crate — render a spec into plan records: one POSIX sh script per node per phase

Usage:
  render-crate SPEC [--phase P]... [--plan] [--os debian|fedora|alpine] [--allow-files DIR]...
  provision-node local 2 --group web | render-crate groups/web --phase configure

SPEC is a reference like groups/web, resolved relative to the working directory to
.ts, .mts, .js, .mjs, .json5 or .json. Node records on stdin (optional) are re-emitted,
then one plan record per node per phase, then a summary. Without stdin, renders for a
generic node of --os (default debian).

Options:
  --phase P   phase to render, repeatable, in order (default: bootstrap if defined, then configure)
  --plan      render check-only scripts (report what would change, with diffs)
  --os OS     OS family of the generic node and of nodes without os facts (default debian)
  --allow-files DIR
              also allow controller files (local, contentFrom, upload, passwordFrom, envFrom)
              under DIR; by default they must be inside the spec's project (symlinks resolved)

Actions:
${actions}`;
}
