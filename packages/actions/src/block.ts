import { ACTION_ID_PATTERN, InputError } from '@forklift/contract/lite';
import { assigned, sh } from './sh.js';

/** Action ids (the contract's pattern): they appear in marker lines and file names on the node. */
export { ACTION_ID_PATTERN };

/** Throw InputError unless `id` is a valid action id. @example assertActionId('nginx-conf') */
export function assertActionId(id: string, where = 'action id'): void {
  if (!ACTION_ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new InputError(`${where}: invalid action id ${JSON.stringify(id)} (use letters, digits, _ . -)`, { code: 'bad-action-id' });
  }
}

/** Make any text safe for one line of a sh comment (no control characters). */
export function commentText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, '?');
}

/** What a block wraps: its id, label, the body and the ids of actions to notify when it changes. */
export interface BlockInput {
  id: string;
  action: string;
  label: string;
  body: string;
  notify: readonly string[];
}

/**
 * Wrap an action body in a labelled, checked block: the begin marker, the body in a subshell under `set -e`
 * without the nonce, stdin from /dev/null, its stdout, stderr and diffs (fd 3) into the run's temp files, then
 * fl_end sends them framed (each line prefixed with `|`) before the exit and status markers; a failure stops
 * the script. The body is not re-indented: its quoted strings may span lines.
 */
export function renderBlock(block: BlockInput): string {
  assertActionId(block.id);
  const body = block.body.endsWith('\n') ? block.body : `${block.body}\n`;
  return (
    `# [${block.id}] ${commentText(block.label)}\n` +
    sh`fl_begin ${block.id}\n` +
    'set +e\n' +
    '(\n' +
    '  unset fl_nonce\n' +
    '  set -e\n' +
    // always quoted: an id like `ps` or `ls` unquoted reads as a command to shellcheck (SC2209)
    `  fl_id='${block.id}'\n` +
    `  fl_notify=${assigned(block.notify.join(' '))}\n` +
    body +
    ') </dev/null >"$fl_tmp/o" 2>"$fl_tmp/e" 3>"$fl_tmp/d"\n' +
    'fl_rc=$?\n' +
    'set -e\n' +
    sh`fl_end ${block.id} "$fl_rc"\n`
  );
}
