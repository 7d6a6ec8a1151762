/** The contact memory's thread (src/store/contact-memory-thread.ts): its priority, and confirms a caller does not wait for. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ThreadedContactMemory } from '../../../src/store/contact-memory-thread';
import { createMemoryKeyHasher, emailHashKey } from '../../../src/streaming/email-hash';
import { fingerprint } from '../../../src/dataflow/fingerprint';

const ring = { primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) };
const hasher = createMemoryKeyHasher(ring);

function open(nice?: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-thread-'));
  const memory = new ThreadedContactMemory(
    { sqlitePath: path.join(dir, 'memory.db'), hashKey: emailHashKey(ring), ...(nice !== undefined ? { nice } : {}) },
    hasher,
  );
  return { memory, cleanup: async () => (await memory.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

/** The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
function threadNices(): number[] {
  return fs.readdirSync('/proc/self/task').map((tid) => {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

const linux = process.platform === 'linux' ? test : test.skip;

linux('the thread runs at the nicer priority it is given, the process keeps its own', async () => {
  const before = threadNices();
  const own = os.getPriority();
  const t = open(7);
  try {
    expect(await t.memory.count('d')).toBe(0); // the thread is started and has answered
    const after = threadNices();
    expect(after.filter((n) => n === 7).length).toBe(before.filter((n) => n === 7).length + 1);
    expect(os.getPriority()).toBe(own);
  } finally {
    await t.cleanup();
  }
});

test('confirms the caller does not wait for (a batch run) still resolve once committed, and a read right after sees them all', async () => {
  const t = open();
  try {
    const keys = Array.from({ length: 1000 }, (_, i) => hasher('d', `p${i}@example.com`));
    const fp = fingerprint({ city: 'Oslo' });
    const confirms = Array.from({ length: 10 }, (_, b) =>
      t.memory.confirm(
        'd',
        keys.slice(b * 100, b * 100 + 100).map((keyHash) => ({ keyHash, fingerprint: fp, statuses: { aud: 'realized' as const } })),
        { background: true },
      ),
    );
    await Promise.all(confirms);
    // A read sees every confirm sent before it.
    expect(await t.memory.count('d')).toBe(1000);
    const rows = await t.memory.lookup('d', keys.slice(0, 3));
    expect([...rows.values()].map((r) => r.statuses)).toEqual([{ aud: 'realized' }, { aud: 'realized' }, { aud: 'realized' }]);
  } finally {
    await t.cleanup();
  }
});
