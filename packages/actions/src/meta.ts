import { normalizeMode, ownerFormat } from './schemas.js';
import { sh } from './sh.js';

/** Owner, group and mode to enforce on a path (each optional). */
export interface Metadata {
  owner?: string;
  group?: string;
  mode?: string;
}

/**
 * sh that compares owner, group and mode of `path` with the wanted ones, reports and diffs each difference
 * and fixes it in apply mode. The path may not exist yet in plan mode (it then shows as empty).
 * @example renderMetadata('/etc/motd', { mode: '0640' })
 */
export function renderMetadata(path: string, wanted: Metadata): string {
  const steps: Array<{ attribute: string; format: string; value: string; fix: string }> = [];
  if (wanted.owner !== undefined) steps.push({ attribute: 'owner', format: ownerFormat(wanted.owner, 'user'), value: wanted.owner, fix: sh`chown ${wanted.owner} ${path}` });
  if (wanted.group !== undefined) steps.push({ attribute: 'group', format: ownerFormat(wanted.group, 'group'), value: wanted.group, fix: sh`chgrp ${wanted.group} ${path}` });
  if (wanted.mode !== undefined) {
    const mode = normalizeMode(wanted.mode);
    steps.push({ attribute: 'mode', format: '%a', value: mode, fix: sh`chmod ${mode} ${path}` });
  }
  return steps
    .map(
      (step) =>
        sh`fl_have=$(fl_stat ${step.format} ${path} 2>/dev/null || true)\n` +
        sh`if [ "$fl_have" != ${step.value} ]; then\n` +
        '  fl_changed\n' +
        sh`  fl_diff_value ${path} ${step.attribute} "$fl_have" ${step.value}\n` +
        `  if fl_apply; then ${step.fix}; fi\n` +
        'fi\n',
    )
    .join('');
}
