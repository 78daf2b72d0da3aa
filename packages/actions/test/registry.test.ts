// The action registry holds the built-in actions by construction: importing it alone is enough (no
// other module has to be imported first for its side effect).
import t from 'tap';
import { findAction, getAction, listActions, registerAction } from '../src/registry.js';
import { builtinActions } from '../src/builtin.js';

t.test('registry - every built-in action is there when the registry module alone is imported', async (t) => {
  t.same(
    listActions().map((action) => action.name),
    builtinActions.map((action) => action.name).sort(),
  );
  t.equal(
    getAction('file'),
    builtinActions.find((action) => action.name === 'file'),
  );
  t.throws(() => getAction('pakage', 'groups/web.json5: phases.configure[1].action'), {
    name: 'InputError',
    message: /^groups\/web\.json5: phases\.configure\[1\]\.action: unknown action "pakage" \(known: archive, /,
  });
});

t.test('registry - a custom action is added explicitly; a second one of the same name is a bug', async (t) => {
  const custom = { ...getAction('exec'), name: 'custom-exec' };
  registerAction(custom);
  t.equal(findAction('custom-exec'), custom);
  t.throws(() => registerAction({ ...custom }), { message: 'action "custom-exec" is registered twice' });
});
