/**
 * The least CPU the confirmed-state memory can spend on a contact of a first run, measured alone: its keyed
 * hash of the email, the fingerprint of the attribute values, and its row's upsert in transactions of
 * 5,000 (how the memory's thread commits a run's confirms) on its own SQLite file. No thread, no messages,
 * no lookup: what the memory does in a worker costs more than this, never less.
 *
 * The dataflows benchmark sets it against what the memory may cost at most for a first run to keep 0.95 of
 * the throughput without it, when the run is bound by the machine's CPU (issue 12).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint } from '../../src/dataflow/fingerprint';
import { openContactMemoryDb, SqlContactMemory } from '../../src/store/contact-memory';
import { hasherWithKey } from '../../src/streaming/email-hash';

export interface MemoryFloor {
  /** CPU microseconds per contact for each part, and their sum. */
  keyMicros: number;
  fingerprintMicros: number;
  upsertMicros: number;
  totalMicros: number;
}

const GROUP = 5_000;

function cpuMicros(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

/** The median of three rounds of `count` contacts shaped like the benchmark's (four attributes, five audiences). */
export async function measureMemoryFloor(count = 100_000): Promise<MemoryFloor> {
  const hash = hasherWithKey(crypto.randomBytes(32), 16);
  const contacts = Array.from({ length: count }, (_, i) => ({
    email: `member-${i}.someone@example${i % 97}.com`,
    attributes: { firstname: `First${i}`, lastname: `Last${i}`, city: `City ${i % 500}`, country: 'US' },
  }));
  const statuses = { 'df-aud-1': 'realized', 'df-aud-2': 'existing', 'df-aud-3': 'realized' } as const;
  const rounds: MemoryFloor[] = [];
  for (let round = 0; round < 3; round++) {
    let keys: string[] = [];
    let fingerprints: string[] = [];
    const keyMicros = cpuMicros(() => (keys = contacts.map((c) => hash('destination', c.email)))) / count;
    const fingerprintMicros = cpuMicros(() => (fingerprints = contacts.map((c) => fingerprint(c.attributes)))) / count;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-memory-floor-'));
    const db = openContactMemoryDb({ sqlitePath: path.join(dir, 'memory.db') });
    try {
      const memory = new SqlContactMemory(db, hash);
      await memory.count('destination'); // tables created outside the measure
      const before = process.cpuUsage();
      for (let i = 0; i < count; i += GROUP) {
        await db.exec('BEGIN IMMEDIATE');
        await memory.confirm(
          'destination',
          keys.slice(i, i + GROUP).map((keyHash, j) => ({ keyHash, fingerprint: fingerprints[i + j], recordId: String(i + j + 1), statuses })),
        );
        await db.exec('COMMIT');
      }
      const used = process.cpuUsage(before);
      const upsertMicros = (used.user + used.system) / count;
      rounds.push({ keyMicros, fingerprintMicros, upsertMicros, totalMicros: keyMicros + fingerprintMicros + upsertMicros });
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const median = [...rounds].sort((a, b) => a.totalMicros - b.totalMicros)[1];
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    keyMicros: round2(median.keyMicros),
    fingerprintMicros: round2(median.fingerprintMicros),
    upsertMicros: round2(median.upsertMicros),
    totalMicros: round2(median.totalMicros),
  };
}
