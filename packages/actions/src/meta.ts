import { normalizeMode } from './schemas.js';
import { sh } from './sh.js';

/** Owner, group and mode to enforce on a path (each optional). */
export interface Metadata {
  owner?: string;
  group?: string;
  mode?: string;
}

/**
 * sh that compares owner, group and mode of `path` with the wanted ones (one `stat`), reports and diffs each
 * difference and fixes it in apply mode without following a symbolic link: a link at `path` fails the action,
 * ownership changes use `chown -h`, and a mode change under a directory other users can write is made as the
 * file's owner (never as root). The path may not exist yet in plan mode (it then shows as empty).
 * @example renderMetadata('/etc/motd', { mode: '0640' })
 */
export function renderMetadata(path: string, wanted: Metadata): string {
  if (wanted.owner === undefined && wanted.group === undefined && wanted.mode === undefined) return '';
  return sh`fl_meta ${path} ${wanted.owner ?? ''} ${wanted.group ?? ''} ${wanted.mode === undefined ? '' : normalizeMode(wanted.mode)}
`;
}
