#!/usr/bin/env node
// dev — the seed's DEVELOPMENT: the complete system on one node (topology (a)), built from the working
// tree, converged, then the acceptance tests always running (expect-run --watch, autoexpect): saving a
// test re-runs it; saving app source rebuilds and redeploys the bundle, then re-runs the tests.
// Ctrl-C leaves the node up; --down tears it down.
import { existsSync, watch } from 'node:fs';
import { join } from 'node:path';
import { environment, Project } from './lib/project.mjs';
import { EXIT, RecipeError, runRecipe } from './lib/recipe.mjs';
import { acceptanceTests, build, convergeWaves, listNodes, tearDown } from './lib/system.mjs';

const USAGE = `dev — the whole system on one node, built from the working tree, with the acceptance tests always
running: a saved test re-runs; saved app source is rebuilt, redeployed, then the tests re-run

Usage: dev.mjs [--service local|localhost] [--once] [--down] [options]

  --service NAME    where the node comes from: local (default: an nspawn node on this machine) or
                    localhost (this machine itself, through the node-list service: no node to boot,
                    but the system's packages and services are installed on your own machine)
  --home DIR        the environment's FORKLIFT_HOME (default $FORKLIFT_HOME/envs/dev)
  --project DIR     the project folder (default: the working directory)
  --once            run the tests once and stop (no watching); the node stays up
  --down            tear the dev node down and stop

Steps: build (the project's build script) · provision (provision-node SERVICE --spec groups/GROUP) ·
converge (provision-node SERVICE --list --group GROUP | run-actions groups/GROUP) · tests
(provision-node SERVICE --list --group GROUP | expect-run test/ --watch). Each re-run prints its
result line; Ctrl-C ends watching (exit 130) and leaves the node up.`;

await runRecipe({ name: 'dev', usage: USAGE, flags: { string: ['service', 'home', 'project'], boolean: ['once', 'down'] } }, async (r) => {
  const project = Project.open(r.flags.project);
  const env = environment(r, 'dev');
  const group = project.config.dev.group;
  if (r.flags.down) {
    await tearDown(r, env, project, [group]);
    return;
  }
  const deploy = async () => {
    await build(r, project);
    await convergeWaves(r, env, project, [[group]]);
  };
  await build(r, project);
  await r.pipe(`provision ${group}`, r.with({ cwd: project.dir })`provision-node ${env.service} --spec ${`groups/${group}`}`);
  await convergeWaves(r, env, project, [[group]]);
  const nodes = await listNodes(r, env, project, 'node records');
  if (r.flags.once) {
    await acceptanceTests(r, env, project, { group, nodes: nodes.filter((n) => n.group === group) });
    r.log(`dev: the node stays up (dev --down tears it down)`);
    return;
  }

  // autoexpect: expect-run --watch re-runs saved tests; app source changes restart it after a redeploy
  const sources = (project.config.dev.watch ?? ['app/src']).map((p) => join(project.dir, p)).filter((p) => existsSync(p));
  let watcher;
  let redeploying = false;
  let pendingChange = false;
  const watchTests = () => {
    watcher = r.with({ cwd: project.dir })`provision-node ${env.service} --list --group ${group} | expect-run ${project.config.tests.expect} --watch`;
    let run = 0;
    const tally = new Map();
    return r
      .runPipeline(watcher, {
        onStderr: (line) => {
          if (!r.verbose && /^(FAIL|Ran |\s{2,}\S)/.test(line)) process.stderr.write(`    ${line}\n`);
        },
        onRecord: (record) => {
          if (record.kind !== 'test') return;
          if (record.run !== run) {
            run = record.run;
            tally.clear();
          }
          tally.set(record.status, (tally.get(record.status) ?? 0) + 1);
          const counts = [...tally].map(([status, n]) => `${n} ${status}`).join(', ');
          r.log(`dev: tests run ${run}: ${record.file} > ${record.name}: ${record.status} (${counts} so far)`);
        },
      })
      .finally(() => {
        watcher = undefined;
      });
  };
  const closers = sources.map((dir) =>
    watch(dir, { recursive: true }, () => {
      pendingChange = true;
      if (redeploying) return;
      setTimeout(async () => {
        if (!pendingChange || redeploying) return;
        redeploying = true;
        pendingChange = false;
        try {
          r.log('dev: app source changed: rebuilding and redeploying');
          watcher?.kill('SIGINT');
          await deploy();
        } catch (error) {
          r.warn(`dev: redeploy failed: ${error.message} (watching goes on; save again to retry)`);
        } finally {
          redeploying = false;
        }
      }, 200);
    }),
  );
  r.finally('stop watching', async () => {
    for (const closer of closers) closer.close();
    return 'the node stays up (dev --down tears it down)';
  });
  await r.step('watch the tests (Ctrl-C to stop; the node stays up)', async () => {
    for (;;) {
      const { exitCode } = await watchTests();
      if (r.interrupted) throw new RecipeError('interrupted', r.interrupted);
      if (!redeploying && exitCode !== EXIT.sigint)
        throw new RecipeError(`expect-run --watch ended (exit ${exitCode})`, exitCode === 0 ? EXIT.failed : exitCode);
      while (redeploying) await new Promise((done) => setTimeout(done, 100));
    }
  });
});
