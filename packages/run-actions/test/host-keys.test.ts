import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { fingerprintOf, hostKeysFromKnownHosts, parsePinnedKey } from '../src/index.js';

const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIAME9nn/TpKZlo6W0JpaaPou6T2y7yVSngrPTpoVL4vl';
const other = 'AAAAC3NzaC1lZDI1NTE5AAAAIBGmUbXbJ+8cF2Qd7oWg8pd8b0m7dD2EWPGKpE7TkyUe';

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

t.test('known_hosts - plain, [host]:port, hashed, comma lists, wildcards, negation, revoked', async (t) => {
  const count = (text: string, host: string, port: number) => hostKeysFromKnownHosts(text, host, port).keys.length;
  t.equal(count(`10.0.0.5 ssh-ed25519 ${key}`, '10.0.0.5', 22), 1);
  t.equal(count(`10.0.0.5 ssh-ed25519 ${key}`, '10.0.0.5', 2222), 0, 'a plain name means port 22');
  t.equal(count(`[10.0.0.5]:2222 ssh-ed25519 ${key}`, '10.0.0.5', 2222), 1);
  t.equal(count(`[10.0.0.5]:2222 ssh-ed25519 ${key}`, '10.0.0.50', 2222), 0, 'brackets and dots are literal');
  t.equal(count(`${hashed('[127.0.0.1]:40022')} ssh-ed25519 ${key}`, '127.0.0.1', 40022), 1);
  t.equal(count(`${hashed('[127.0.0.1]:40022')} ssh-ed25519 ${key}`, '127.0.0.1', 40023), 0);
  t.equal(count(`web,10.0.0.*,!10.0.0.9 ssh-ed25519 ${key}`, '10.0.0.7', 22), 1);
  t.equal(count(`web,10.0.0.*,!10.0.0.9 ssh-ed25519 ${key}`, '10.0.0.9', 22), 0);
  t.equal(count(`# comment\n@cert-authority * ssh-ed25519 ${key}\n`, 'x', 22), 0);
  const revoked = hostKeysFromKnownHosts(`@revoked * ssh-ed25519 ${other}\nx ssh-ed25519 ${key}`, 'x', 22);
  t.equal(revoked.keys.length, 1);
  t.equal(revoked.revoked.length, 1);
});

t.test('pinned host key - key line or SHA256 fingerprint; garbage is refused', async (t) => {
  const parsed = parsePinnedKey(`ssh-ed25519 ${key} comment`)!;
  t.equal(parsed.key!.type, 'ssh-ed25519');
  const fingerprint = fingerprintOf(parsed.key!.blob);
  t.match(fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  t.same(parsePinnedKey(fingerprint), { fingerprint });
  t.equal(parsePinnedKey('ssh-rsa ' + key), undefined, 'the type must match the blob');
  t.equal(parsePinnedKey('not a key'), undefined);
});
