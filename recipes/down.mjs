#!/usr/bin/env node
// down — tear an environment's system down: every group of both colors and the shared ones.
import { environment, Project } from './lib/project.mjs';
import { runRecipe } from './lib/recipe.mjs';
import { tearDown } from './lib/system.mjs';

const USAGE = `down — destroy every node of the system in an environment (both colors and the shared groups)

Usage: down.mjs [--env production|dev|dev-qa] [--service NAME] [--home DIR] [--project DIR]

Runs provision-node SERVICE 0 --group G for every group of the project (and the dev group for --env dev).`;

await runRecipe({ name: 'down', usage: USAGE, flags: { string: ['env', 'service', 'home', 'project'] } }, async (r) => {
  const project = Project.open(r.flags.project);
  const name = r.flags.env ?? 'production';
  const env = environment(r, name);
  const groups = name === 'dev' ? [project.config.dev.group] : project.allGroups();
  await tearDown(r, env, project, groups);
});
