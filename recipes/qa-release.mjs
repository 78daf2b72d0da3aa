#!/usr/bin/env node
// qa-release VERSION — the seed's QA RELEASE: start release/VERSION from develop, build it with that
// version, provision the staged color (the one that is not live) with its DB replicating from the
// live one, deploy, test it through the load balancer's staging frontend while real traffic stays on
// the live color; then finish the release the git-flow way (merge into master and develop --no-ff,
// tag vVERSION on master, delete the release branch, push). The new color is then staged.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_FLAGS, GIT_HELP, Repo } from './lib/git.mjs';
import { environment, prepareCheckout, Project, readReleaseState } from './lib/project.mjs';
import { RecipeError, refusal, runRecipe, usageError } from './lib/recipe.mjs';
import { acceptanceTests, build, convergeWaves, countByGroup, listNodes, liveColor, provisionGroups, tearDown, writeReleaseState } from './lib/system.mjs';

const USAGE = `qa-release VERSION — build release VERSION from develop, deploy it to the staged color (the one
that is not live) with its DB replicating from the live one, test it through the load balancer's
staging frontend, and finish the release: merge into master and develop (--no-ff), tag, push

Usage: qa-release.mjs VERSION [--service NAME] [options]

  VERSION           the release, e.g. 1.2.0 (branch release/VERSION, tag vVERSION)
  --service NAME    the compute service production runs on (default local)
  --home DIR        production's FORKLIFT_HOME (default $FORKLIFT_HOME, else ~/.forklift)
  --project DIR     the project folder inside the repository (default: the working directory)
  --health-timeout S  how long the candidate's /healthz may take to answer 200 through the staging
                    frontend (default 60)

Steps: fetch · production nodes (provision-node SERVICE --list) · live color (… | promote-color APP
--status) · start or
resume release/VERSION from develop (version bumped and committed, pushed) · check out · build with
the version · provision the staged color's groups (provision-node SERVICE --spec groups/G) ·
converge its DB (a replica of the live DB), app and web tiers, then the LB (provision-node SERVICE
--list | run-actions groups/G) · /healthz through the staging frontend · acceptance tests through it
(| expect-run, | browser-drive) · merge into master and develop --no-ff, tag, delete the release
branch, push (atomically) · record the staged release.

On failure nothing is merged or tagged, the release branch stays (a later run resumes it), the staged
color is torn down — every group this run created or deployed the candidate to (the old color's
minimal web and app nodes too, once they run the candidate); a group it did not reach goes back to
its node count; the color's DB, the live DB's replica, is kept — and the LB converged again; exit 1.
A VERSION whose tag exists is refused: the release is finished (65).

${GIT_HELP}`;

const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

await runRecipe(
  {
    name: 'qa-release',
    usage: USAGE,
    args: [1, 1],
    argsName: 'VERSION',
    flags: { string: ['service', 'home', 'project', 'health-timeout', ...GIT_FLAGS] },
  },
  async (r) => {
    const [version] = r.args;
    if (!VERSION.test(version)) throw usageError(`VERSION must look like 1.2.0 (or 1.2.0-rc.1), got ${JSON.stringify(version)}`);
    const healthTimeoutMs = seconds(r.flags['health-timeout'] ?? '60', 'health-timeout');
    const project = Project.open(r.flags.project);
    const repo = await Repo.open(project.dir, r.flags);
    const env = environment(r, 'production');
    const app = project.config.app;
    const tag = `${repo.tagPrefix}${version}`;
    const releaseBranch = `${repo.releasePrefix}${version}`;

    await r.step(`fetch ${repo.remote}`, () => repo.fetch());
    const tagged = await repo.commitOf(`refs/tags/${tag}`);
    if (tagged) {
      const inMaster = await repo.isAncestor(tagged, repo.remoteRef(repo.master)).catch(() => false);
      throw refusal(
        `release ${version} is already finished: tag ${tag} is on ${tagged.slice(0, 10)}${inMaster ? `, merged into ${repo.master}` : ''} (choose a new VERSION)`,
      );
    }
    const develop = await repo.commitOf(repo.remoteRef(repo.develop));
    if (!develop) throw usageError(`${repo.remote} has no branch ${repo.develop} (give --develop BRANCH)`);
    if (!(await repo.commitOf(repo.remoteRef(repo.master)))) throw usageError(`${repo.remote} has no branch ${repo.master} (give --master BRANCH)`);

    const before = await listNodes(r, env, project, 'production nodes');
    const { live, staged } = await liveColor(r, env, project, before);
    r.log(`qa-release: ${app}: ${live} is live, the release goes to ${staged}`);

    // git-flow's release start (or resume a release branch a failed run left)
    r.finally('remove the worktrees', () => repo.removeWorktrees());
    const { checkout, commit } = await r.step(`start ${releaseBranch}`, async () => {
      const existing = await repo.branchCommit(releaseBranch);
      const dir = await repo.worktree(existing ?? develop, `qa-release-${version}`);
      let head = existing ?? develop;
      const versionFile = project.config.versionFile ? join(dir, repo.projectPrefix, project.config.versionFile) : undefined;
      if (versionFile) {
        const text = await readFile(versionFile, 'utf8');
        const json = JSON.parse(text);
        if (json.version !== version) {
          json.version = version;
          await writeFile(versionFile, `${JSON.stringify(json, null, 2)}\n`);
          await repo.gitIn(dir, ['add -- ', ''], versionFile);
          await repo.gitIn(dir, ['commit -q -m ', ''], `Bump version to ${version}`);
          head = (await repo.gitIn(dir, ['rev-parse HEAD'])).trim();
        }
      }
      await repo.push([`${head}:refs/heads/${releaseBranch}`]);
      return { checkout: dir, commit: head };
    });
    const built = project.at(join(checkout, repo.projectPrefix));
    await r.step('dependencies and secrets', () => prepareCheckout(r, project, repo, checkout, { withSecrets: true }));
    await build(r, built, version);

    // the staged color: groups that run already (the old color on minimal resources) are scaled back
    // up by their specs; on failure the new color is torn down
    const existed = countByGroup(before.filter((n) => built.colorGroups(staged).includes(n.group)));
    const db = built.dbGroup(staged);
    const deployed = new Set();
    const undo = r.finally(`tear down the failed ${staged} release`, async () => {
      // every group of the color this run created, and every group it deployed the candidate to, goes;
      // a group that ran before and was not reached goes back to its node count; the DB that was
      // already there (the live DB's replica, its data) stays
      const gone = built.colorGroups(staged).filter((g) => !existed[g] || (g !== db && deployed.has(g)));
      await tearDown(r, env, built, gone);
      for (const [group, count] of Object.entries(existed)) {
        if (group === db || gone.includes(group)) continue;
        await r.pipe(`scale ${group} back to ${count}`, r.with({ cwd: built.dir })`provision-node ${env.service} ${count} --group ${group}`);
      }
      if (built.config.lb) await convergeWaves(r, env, built, [[built.config.lb]]);
    });
    await provisionGroups(r, env, built, built.colorGroups(staged));
    await convergeWaves(r, env, built, built.releaseWaves(staged), { onStart: (group) => deployed.add(group) });
    const nodes = await listNodes(r, env, built, 'node records');
    const lb = nodes.find((n) => n.group === built.config.lb || (n.roles ?? []).includes('lb'));
    const stagingUrl = `http://${lb.address}:${built.config.stagingPort}`;
    await r.step(`${staged} /healthz through the staging frontend`, () => waitHealthy(`${stagingUrl}/healthz`, { color: staged, version }, healthTimeoutMs));
    await acceptanceTests(r, env, built, { color: staged, lbPort: built.config.stagingPort, nodes });

    // git-flow's release finish: master and develop get merge commits, master's is tagged
    await r.step(`finish ${releaseBranch}: merge into ${repo.master} and ${repo.develop}, tag ${tag}, push`, async () => {
      const master = await repo.mergeNoFf(repo.master, commit, `Merge branch '${releaseBranch}'`);
      const developMerge = await repo.mergeNoFf(repo.develop, master, `Merge tag '${tag}' into ${repo.develop}`);
      await repo.git`tag -a ${tag} -m ${`Release ${version}`} ${master}`;
      try {
        await repo.push([
          `${master}:refs/heads/${repo.master}`,
          `${developMerge}:refs/heads/${repo.develop}`,
          `refs/tags/${tag}:refs/tags/${tag}`,
          `:refs/heads/${releaseBranch}`,
        ]);
      } catch (error) {
        await repo.git`tag -d ${tag}`.catch(() => undefined);
        throw error;
      }
      await repo.removeWorktrees();
      if (await repo.commitOf(`refs/heads/${releaseBranch}`)) await repo.git`branch -D ${releaseBranch}`.catch(() => undefined);
      await repo.fetch();
      await repo.advanceLocal(repo.master, master);
      await repo.advanceLocal(repo.develop, developMerge);
    });
    undo();

    await r.step('record the staged release', async () => {
      const state = readReleaseState(env.home, app);
      const at = new Date().toISOString();
      state.staged = { color: staged, version, tag, at };
      state.history = [...(state.history ?? []), { at, event: 'staged', color: staged, version, tag }].slice(-100);
      await writeReleaseState(env.home, app, state);
    });
    r.log(`qa-release: ${app} ${version} is staged on ${staged} (${stagingUrl}); production-release shifts the traffic to it`);
  },
);

function seconds(text, flag) {
  const value = Number(text);
  if (!(value > 0)) throw usageError(`--${flag} must be a positive number of seconds, got ${JSON.stringify(text)}`);
  return value * 1000;
}

/** Poll a /healthz URL until it answers 200 with the expected color and version, or fail. */
async function waitHealthy(url, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const body = await response.text();
      last = `${response.status} ${body.slice(0, 200)}`;
      if (response.status === 200) {
        const json = JSON.parse(body);
        if (json.color === expected.color && json.version === expected.version) return `200 ${json.color} ${json.version}`;
        last = `200 but ${json.color} ${json.version} (expected ${expected.color} ${expected.version})`;
      }
    } catch (error) {
      last = error.message;
    }
    await new Promise((done) => setTimeout(done, 1000));
  }
  throw new RecipeError(
    `the release candidate's ${url} did not answer 200 with ${expected.color} ${expected.version} within ${timeoutMs / 1000} s (last: ${last})`,
  );
}
