// A group's color and roles (from its group spec), kept per service so that every node record of the
// group carries them: those written by a converge and those --list writes later.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { GROUP_NAME_PATTERN } from '@forklift/spec';

/** What a group spec says about all of its nodes. */
export interface GroupLabels {
  color?: string;
  roles?: string[];
}

function labelsFile(stateDir: string, group: string): string {
  return join(stateDir, 'groups', `${group}.json`);
}

/** The labels stored for a group (none when no group spec gave any). */
export async function readGroupLabels(stateDir: string, group: string): Promise<GroupLabels> {
  // an inventory's group may be any string: only a group name provision-node accepts names a file
  if (!GROUP_NAME_PATTERN.test(group)) return {};
  const file = labelsFile(stateDir, group);
  if (!existsSync(file)) return {};
  return JSON.parse(await readFile(file, 'utf8')) as GroupLabels;
}

/** Store a group's labels (through a temporary file and a rename); an empty set removes them. */
export async function writeGroupLabels(stateDir: string, group: string, labels: GroupLabels): Promise<void> {
  const file = labelsFile(stateDir, group);
  if (labels.color === undefined && labels.roles === undefined) {
    await rm(file, { force: true });
    return;
  }
  await mkdir(join(stateDir, 'groups'), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(labels) + '\n');
  await rename(`${file}.tmp`, file);
}

/**
 * Node records with their group's stored labels applied (a stored label wins over what the provider
 * listed, e.g. an inventory's roles).
 */
export async function labelRecords(stateDir: string, records: NodeRecord[]): Promise<NodeRecord[]> {
  const byGroup = new Map<string, GroupLabels>();
  for (const group of new Set(records.map((record) => record.group))) byGroup.set(group, await readGroupLabels(stateDir, group));
  return records.map((record) => {
    const labels = byGroup.get(record.group)!;
    return { ...record, ...(labels.color === undefined ? {} : { color: labels.color }), ...(labels.roles === undefined ? {} : { roles: [...labels.roles] }) };
  });
}
