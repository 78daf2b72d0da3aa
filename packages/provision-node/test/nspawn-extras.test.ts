// The nspawn extras a group's node spec may ask for (provider.nspawn): validated before any node is begun.
import t from 'tap';
import { parseNspawnExtras } from '../src/providers/nspawn-options.js';

t.test('nspawn extras - fuse and nfsExport are booleans; none is fine', async (t) => {
  t.same(parseNspawnExtras(undefined, 'web'), {});
  t.same(parseNspawnExtras({ fuse: true, nfsExport: true }, 'files'), { fuse: true, nfsExport: true });
});

t.test('nspawn extras - a misspelt extra or a wrong type is exit 65 naming the group and the field', async (t) => {
  t.throws(() => parseNspawnExtras({ fuze: true }, 'files'), {
    name: 'InputError',
    message: 'group files: node spec field "node.provider.nspawn.fuze": unknown field',
  });
  t.throws(() => parseNspawnExtras({ nfsExport: 'yes' }, 'files'), {
    name: 'InputError',
    message: /^group files: node spec field "node\.provider\.nspawn\.nfsExport": .*expected boolean/,
  });
});
