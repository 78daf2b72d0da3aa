#!/usr/bin/env node
// status — what runs in an environment: nodes per group and color, the live color (promote-color's
// state on the LB) and the releases recorded by qa-release and production-release.
import { COLORS, environment, Project, readReleaseState, releaseStatePath } from './lib/project.mjs';
import { runRecipe } from './lib/recipe.mjs';
import { countByGroup, listNodes, liveColor } from './lib/system.mjs';

const USAGE = `status — the nodes, the live color and the releases of an environment

Usage: status.mjs [--env production|dev|dev-qa] [--service NAME] [--home DIR] [--project DIR]

  --env NAME       which environment (default production: $FORKLIFT_HOME; dev and dev-qa live in
                   $FORKLIFT_HOME/envs/NAME)
  --service NAME   the compute service (default local)

Writes the node records and promote-color's status record with --records; stderr gets one line per
group and the release state.`;

await runRecipe({ name: 'status', usage: USAGE, flags: { string: ['env', 'service', 'home', 'project'] } }, async (r) => {
  const project = Project.open(r.flags.project);
  const name = r.flags.env ?? 'production';
  const env = environment(r, name);
  const nodes = await listNodes(r, env, project, `nodes of ${name} (${env.home})`);
  const counts = countByGroup(nodes);
  for (const group of Object.keys(counts).sort()) {
    const ids = nodes.filter((n) => n.group === group).map((n) => `${n.id} ${n.address}`);
    r.warn(`  ${group.padEnd(14)} ${String(counts[group]).padStart(2)} node(s)  ${ids.join(', ')}`);
  }
  if (nodes.length === 0) r.warn('  no node runs');
  const hasLb = nodes.some((n) => n.group === project.config.lb || (n.roles ?? []).includes('lb'));
  if (hasLb && project.config.lb) {
    const { live } = await liveColor(r, env, project, nodes);
    const state = readReleaseState(env.home, project.config.app);
    r.warn(`  live: ${live}${state.live ? ` (${project.config.app} ${state.live.version} since ${state.live.since})` : ''}`);
    if (state.staged)
      r.warn(`  staged: ${state.staged.color} (${project.config.app} ${state.staged.version}, ${state.staged.tag}) — production-release shifts to it`);
    for (const color of COLORS) {
      const own = project
        .colorGroups(color)
        .map((g) => `${g} ${counts[g] ?? 0}`)
        .join(', ');
      r.warn(`  ${color}: ${own}`);
    }
    r.warn(`  release state: ${releaseStatePath(env.home, project.config.app)}`);
  }
});
