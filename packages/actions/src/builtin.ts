import { archiveAction } from './actions/archive.js';
import { cronAction } from './actions/cron.js';
import { directoryAction } from './actions/directory.js';
import { execAction } from './actions/exec.js';
import { lineInFileAction } from './actions/line-in-file.js';
import { symlinkAction } from './actions/symlink.js';
import { fileAction } from './actions/file.js';
import { groupAction } from './actions/group.js';
import { packageSourceAction } from './actions/package-source.js';
import { packageAction } from './actions/package.js';
import { serviceAction } from './actions/service.js';
import { userAction } from './actions/user.js';
import type { AnyActionDefinition } from './types.js';

/** Every built-in action: the registry (registry.ts) is built from this list. To add one: import it and append it here. */
export const builtinActions: readonly AnyActionDefinition[] = [
  fileAction,
  userAction,
  groupAction,
  packageAction,
  packageSourceAction,
  cronAction,
  serviceAction,
  directoryAction,
  symlinkAction,
  lineInFileAction,
  execAction,
  archiveAction,
];
