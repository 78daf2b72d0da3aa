#!/usr/bin/env node
// production-release — the seed's PRODUCTION RELEASE: shift the live traffic to the staged color in
// stages behind health gates (promote-color); at 100 % make the new color's DB the primary and the
// old color's DB its replica (the mariadb crate's promote and demote phases); scale the old color
// down to minimal resources (its web and app tiers to their minimum, its DB kept as a replica) and
// record the release. A failed gate: promote-color rolls back, the DBs are untouched, exit 1.
import { environment, Project, readReleaseState } from './lib/project.mjs';
import { RecipeError, refusal, runRecipe, usageError } from './lib/recipe.mjs';
import { convergeWaves, countByGroup, listNodes, liveColor, nodeLines, writeReleaseState } from './lib/system.mjs';

const USAGE = `production-release — shift the live traffic to the staged release's color in stages behind health
gates, then make its DB the primary, scale the old color down to minimal resources and record it

Usage: production-release.mjs [--stages 10,50,100] [--hold 5s] [options]

  --service NAME          the compute service production runs on (default local)
  --home DIR              production's FORKLIFT_HOME (default $FORKLIFT_HOME, else ~/.forklift)
  --project DIR           the project folder (default: the working directory)
  --stages LIST           percent of the live traffic the new color takes at each stage (default 10,50,100)
  --hold DURATION         how long each stage holds before its gate decides (default 5s)
  --max-error-rate RATE   the highest error rate of the new color in a stage (promote-color's default)
  --min-requests N        the fewest requests the new color must see in a stage (promote-color's default)

Steps: production nodes (provision-node SERVICE --list, once: its records feed the next three) · live
color (… | promote-color APP --status) · shift (… | promote-color APP --to COLOR --stages … --hold …) ·
side by side: promote the new DB then demote the old one (… | run-actions groups/COLOR-db --phase
promote|demote),
and scale the old color's web and app tiers to their minimum (provision-node SERVICE N --group G, then
the tiers in front of them converged again) · record the release.

A failed gate: promote-color has rolled all traffic back to the live color, nothing else changed, exit
1 (the release stays staged: fix and run again, or run qa-release anew). Nothing staged (no qa-release
since the last production release) is refused (65).`;

await runRecipe(
  {
    name: 'production-release',
    usage: USAGE,
    args: [0, 0],
    flags: { string: ['service', 'home', 'project', 'stages', 'hold', 'max-error-rate', 'min-requests'] },
  },
  async (r) => {
    const project = Project.open(r.flags.project);
    const env = environment(r, 'production');
    const app = project.config.app;
    const stages = r.flags.stages ?? '10,50,100';
    if (!/^\d+(,\d+)*$/.test(stages) || !stages.endsWith('100'))
      throw usageError(`--stages must be percentages ending at 100, e.g. 10,50,100 (got ${JSON.stringify(stages)})`);
    const hold = r.flags.hold ?? '5s';
    const gates = [];
    if (typeof r.flags['max-error-rate'] === 'string') gates.push('--max-error-rate', r.flags['max-error-rate']);
    if (typeof r.flags['min-requests'] === 'string') gates.push('--min-requests', r.flags['min-requests']);

    const state = readReleaseState(env.home, app);
    if (!state.staged) {
      const live = state.live ? `: ${app} ${state.live.version} went live on ${state.live.color} at ${state.live.since}` : '';
      throw refusal(`nothing is staged for ${app}${live} — run qa-release VERSION first`);
    }
    const release = state.staged;
    const nodes = await listNodes(r, env, project, 'production nodes');
    const { live, staged } = await liveColor(r, env, project, nodes);
    if (release.color !== staged) {
      throw refusal(`release ${release.version} was staged on ${release.color}, which is live already: it is released (run qa-release for a new one)`);
    }
    const counts = countByGroup(nodes);
    const missing = project.colorGroups(staged).filter((g) => !counts[g]);
    if (missing.length > 0)
      throw new RecipeError(`the staged color ${staged} has no running nodes in ${missing.join(', ')}: run qa-release ${release.version} again`);
    r.log(`production-release: ${app} ${release.version}: ${live} -> ${staged} in stages ${stages}, hold ${hold}`);

    // the node records listed once serve the shift and the DB phases (the nodes do not change meanwhile)
    const listed = r.with({ cwd: project.dir, input: nodeLines(nodes) });
    try {
      await r.pipe(`shift traffic ${live} -> ${staged}`, listed`promote-color ${app} --to ${staged} --stages ${stages} --hold ${hold} ${gates}`);
    } catch (error) {
      throw new RecipeError(
        `the release did not go live: promote-color kept (or rolled back) all traffic on ${live}; databases untouched (${error.message})`,
        error.exitCode,
      );
    }

    const databases = async () => {
      const newDb = project.dbGroup(staged);
      const oldDb = project.dbGroup(live);
      if (!newDb || !oldDb) return;
      await r.pipe(`promote ${newDb}`, listed`run-actions ${`groups/${newDb}`} --phase promote`);
      await r.pipe(`demote ${oldDb} (replica of ${newDb})`, listed`run-actions ${`groups/${oldDb}`} --phase demote`);
    };
    const scaleDown = async () => {
      const minimal = project.minimal(live);
      const scaled = [];
      for (const [group, count] of Object.entries(minimal)) {
        if ((counts[group] ?? 0) <= count) continue;
        await r.pipe(`scale ${group} to ${count}`, r.with({ cwd: project.dir })`provision-node ${env.service} ${count} --group ${group}`);
        scaled.push(group);
      }
      if (scaled.length === 0) return;
      // the tiers after a scaled one (nginx in front of the app servers) learn the nodes that went
      const order = project
        .releaseWaves(live)
        .flat()
        .filter((g) => g !== project.config.lb && g !== project.dbGroup(live));
      const first = Math.min(...scaled.map((g) => order.indexOf(g)));
      const again = order.slice(first + 1).filter((g) => !scaled.includes(g) && (counts[g] ?? 0) > 0);
      if (again.length > 0)
        await convergeWaves(
          r,
          env,
          project,
          again.map((g) => [g]),
        );
    };
    const results = await Promise.allSettled([databases(), scaleDown()]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;

    await r.step('record the release', async () => {
      const now = new Date().toISOString();
      const next = readReleaseState(env.home, app);
      next.previous = next.live ?? { color: live, version: null, since: null };
      next.live = { color: staged, version: release.version, tag: release.tag, since: now };
      next.staged = null;
      next.history = [...(next.history ?? []), { at: now, event: 'released', color: staged, version: release.version, tag: release.tag, from: live }].slice(
        -100,
      );
      await writeReleaseState(env.home, app, next);
    });
    r.log(`production-release: ${app} ${release.version} is live on ${staged}; ${live} runs on minimal resources (its DB replicates from ${staged})`);
  },
);
