#!/usr/bin/env node
// dev-qa BRANCH — the seed's DEV QA: check the feature branch out into a throwaway worktree, build it
// from scratch, deploy it to local nodes that simulate production (topology (b), an environment of
// its own), run the acceptance tests; merge into develop (--no-ff) and push only when they pass.
import { join } from 'node:path';
import { GIT_FLAGS, GIT_HELP, Repo, checkBranchName } from './lib/git.mjs';
import { environment, prepareCheckout, Project } from './lib/project.mjs';
import { refusal, runRecipe, usageError } from './lib/recipe.mjs';
import { acceptanceTests, build, convergeWaves, listNodes, provisionGroups, tearDown } from './lib/system.mjs';

const USAGE = `dev-qa BRANCH — build a feature branch from scratch, deploy it to local nodes that simulate
production, run the acceptance tests, and merge it into develop (--no-ff) and push when they pass

Usage: dev-qa.mjs BRANCH [--service NAME] [--keep] [options]

  BRANCH            the feature branch (local, else the remote's)
  --service NAME    the compute service of the nodes (default local; vmfest for QEMU VMs)
  --home DIR        the environment's FORKLIFT_HOME (default $FORKLIFT_HOME/envs/dev-qa)
  --project DIR     the project folder inside the repository (default: the working directory)
  --keep            leave the nodes up (default: torn down at the end, pass or fail)

Steps: fetch · check out BRANCH (a detached worktree) · dependencies · build · provision every group
(provision-node SERVICE --spec groups/G) · converge in waves (provision-node SERVICE --list |
run-actions groups/G) · acceptance tests (| expect-run test/, | browser-drive SCRIPT) · merge into
develop --no-ff and push · tear down. A failure anywhere merges nothing and exits 1. A branch already
merged into develop is refused (exit 65).

${GIT_HELP}`;

await runRecipe(
  {
    name: 'dev-qa',
    usage: USAGE,
    args: [1, 1],
    argsName: 'BRANCH',
    flags: { string: ['service', 'home', 'project', ...GIT_FLAGS], boolean: ['keep'] },
  },
  async (r) => {
    const [branch] = r.args;
    const project = Project.open(r.flags.project);
    const repo = await Repo.open(project.dir, r.flags);
    await checkBranchName(repo, 'BRANCH', branch);
    if (branch === repo.develop || branch === repo.master) throw usageError(`BRANCH must be a feature branch, not ${branch}`);
    const env = environment(r, 'dev-qa');

    await r.step(`fetch ${repo.remote}`, () => repo.fetch());
    const commit = await repo.branchCommit(branch);
    if (!commit) throw usageError(`no branch ${branch} here or on ${repo.remote}`);
    const develop = await repo.commitOf(repo.remoteRef(repo.develop));
    if (!develop) throw usageError(`${repo.remote} has no branch ${repo.develop} (give --develop BRANCH)`);
    if (await repo.isAncestor(commit, develop)) {
      throw refusal(`${branch} (${commit.slice(0, 10)}) is already merged into ${repo.develop}: nothing to test`);
    }

    r.finally('remove the worktree', () => repo.removeWorktrees());
    const checkout = await r.step(`check out ${branch} (${commit.slice(0, 10)})`, () => repo.worktree(commit, `dev-qa-${branch}`));
    const built = project.at(join(checkout, repo.projectPrefix));
    await r.step('dependencies', () => prepareCheckout(r, project, repo, checkout, { withSecrets: 'if-present' }));
    await build(r, built);

    const color = built.config.firstColor ?? 'blue';
    const groups = built.groups(color);
    if (r.flags.keep !== true) r.finally('tear down the nodes', () => tearDown(r, env, built, groups));
    await provisionGroups(r, env, built, groups);
    await convergeWaves(r, env, built, built.waves(color));
    const nodes = await listNodes(r, env, built, 'node records');
    await acceptanceTests(r, env, built, { color, nodes });

    await r.step(`merge ${branch} into ${repo.develop} (--no-ff) and push`, async () => {
      const merged = await repo.mergeNoFf(repo.develop, commit, `Merge branch '${branch}' into ${repo.develop}`);
      await repo.push([`${merged}:refs/heads/${repo.develop}`]);
      await repo.fetch();
      await repo.advanceLocal(repo.develop, merged);
      return merged;
    });
  },
);
