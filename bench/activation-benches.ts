/**
 * Activation benchmarks (issue 8): ceiling efficiency on Free and Professional accounts, the cost of
 * durability against a bare loop, a 1,000,000-member activation, and two workers on one account.
 * Each returns ratios measured in one run, since the machine is shared and noisy.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import axios from 'axios';
import {
  activationTimes,
  BENCH_AUDIENCE,
  benchDestination,
  idealSeconds,
  membersFile,
  peakRssMb,
  runActivation,
  simContactCount,
  simStats,
  startBenchStack,
  upsertCallsOf,
} from './lib/harness';
import { SAMPLE_AUDIENCES } from '../src/members/sample-profiles';

const UNLIMITED = { tenSecondly: 1_000_000_000, daily: 1_000_000_000_000 };

function check(end: { status: string; summary?: { received: number; upserted: number; rejected: number } }, members: number): boolean {
  return end.status === 'completed' && end.summary?.received === members && end.summary.upserted === members && end.summary.rejected === 0;
}

export interface CeilingResult {
  tier: string;
  limitPer10s: number;
  members: number;
  calls: number;
  upsertCalls: number;
  idealSeconds: number;
  measuredSeconds: number;
  ratio: number;
  rate429: number;
  maxRequestsIn10s: number;
  nothingLost: boolean;
}

/** 1. Ceiling efficiency: shortest time the rolling window allows ÷ measured time; 429s as a share of calls. */
export async function benchCeiling(tier: 'free' | 'pro', members = 100_000, env: Record<string, string> = {}): Promise<CeilingResult> {
  const stack = await startBenchStack(env);
  try {
    await stack.startWorkers(1);
    const file = membersFile(members);
    const { destinationId, portalId } = await benchDestination(stack, { tier });
    await stack.sim.admin.delete('/stats');
    const end = await runActivation(stack, destinationId, file);
    const t = await activationTimes(stack.client, end.activationId);
    const stats = await simStats(stack);
    const portal = stats.portals[String(portalId)];
    const limit = tier === 'free' ? 100 : 190;
    const measured = (t.endMs - t.startMs) / 1000;
    const ideal = idealSeconds(portal.requests, limit);
    const contacts = await simContactCount(stack, portalId);
    return {
      tier,
      limitPer10s: limit,
      members,
      calls: portal.requests,
      upsertCalls: upsertCallsOf(stats.byRoute),
      idealSeconds: ideal,
      measuredSeconds: round(measured),
      ratio: round(ideal / measured, 3),
      rate429: round(portal.rateLimited / portal.requests, 4),
      maxRequestsIn10s: portal.maxRequestsIn10s,
      nothingLost: check(end, members) && contacts === members,
    };
  } finally {
    await stack.stop();
  }
}

/** The bare loop: read the same file, build the same upserts, send them with the same concurrency — no Temporal, no checks. */
async function bareLoop(
  url: string,
  token: string,
  prop: string,
  file: string,
  concurrency: number,
): Promise<{ contacts: number; seconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const hs = axios.create({ baseURL: url, httpAgent: agent, headers: { Authorization: `Bearer ${token}` } });
  const started = Date.now();
  let contacts = 0;
  const inFlight = new Set<Promise<void>>();
  let batch: unknown[] = [];
  const send = async (inputs: unknown[]) => {
    await hs.post('/crm/v3/objects/contacts/batch/upsert', { inputs });
    contacts += inputs.length;
  };
  for await (const line of createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const p = JSON.parse(line);
    const email = (p.identityMap.Email.find((e: { primary: boolean }) => e.primary) ?? p.identityMap.Email[0]).id.toLowerCase();
    batch.push({
      id: email,
      idProperty: 'email',
      properties: {
        email,
        firstname: p.person.name.firstName,
        lastname: p.person.name.lastName,
        city: p.workAddress.city,
        country: p.workAddress.country,
        [prop]: p.segmentMembership.ups[BENCH_AUDIENCE.id]?.status ?? 'realized',
      },
    });
    if (batch.length === 100) {
      const pr = send(batch).finally(() => inFlight.delete(pr));
      inFlight.add(pr);
      batch = [];
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }
  if (batch.length) await send(batch);
  await Promise.all(inFlight);
  agent.destroy();
  return { contacts, seconds: (Date.now() - started) / 1000 };
}

export interface DurabilityResult {
  members: number;
  activationContactsPerSecond: number;
  bareLoopContactsPerSecond: number;
  ratio: number;
  nothingLost: boolean;
}

/** 2. Cost of durability: rate limits off; activation throughput ÷ a bare loop against the same simulator, same run. */
export async function benchDurability(members = 100_000, env: Record<string, string> = {}): Promise<DurabilityResult> {
  const stack = await startBenchStack(env);
  try {
    await stack.startWorkers(1);
    const file = membersFile(members);
    const a = await benchDestination(stack, { tier: 'pro' });
    await stack.sim.admin.put(`/accounts/${a.portalId}/limits`, UNLIMITED);
    // The bare loop writes to its own account (same simulator), so both start from empty.
    const b = (await stack.sim.admin.post('/accounts', { tier: 'pro' })).data as { portalId: number; token: string };
    await stack.sim.admin.put(`/accounts/${b.portalId}/limits`, UNLIMITED);
    const prop = await createStatusProperty(stack.sim.url, b.token);
    const concurrency = stack.config.worker.upsertConcurrency;
    // Warm both paths once on a small file (JIT, connections, the workflow bundle), then measure.
    const warm = membersFile(2000, 99);
    await runActivation(stack, a.destinationId, warm);
    await bareLoop(stack.sim.url, b.token, prop, warm, concurrency);
    const bare = await bareLoop(stack.sim.url, b.token, prop, file, concurrency);
    const end = await runActivation(stack, a.destinationId, file);
    const t = await activationTimes(stack.client, end.activationId);
    const activationRate = members / ((t.endMs - t.startMs) / 1000);
    const bareRate = bare.contacts / bare.seconds;
    return {
      members,
      activationContactsPerSecond: Math.round(activationRate),
      bareLoopContactsPerSecond: Math.round(bareRate),
      ratio: round(activationRate / bareRate, 3),
      nothingLost: check(end, members),
    };
  } finally {
    await stack.stop();
  }
}

/** Gives the bare loop its status property (HubSpot refuses unknown properties), as the activation does. */
async function createStatusProperty(url: string, token: string): Promise<string> {
  const name = 'aud_bare_loop';
  await axios.post(
    `${url}/crm/v3/properties/contacts`,
    {
      name,
      label: 'Bare loop',
      type: 'enumeration',
      fieldType: 'select',
      groupName: 'contactinformation',
      options: ['realized', 'existing', 'exited'].map((v, i) => ({ label: v, value: v, displayOrder: i, hidden: false })),
    },
    { headers: { Authorization: `Bearer ${token}` } },
  );
  return name;
}

export interface ScaleResult {
  members: number;
  wallSeconds: number;
  contactsPerSecond: number;
  workerPeakRssMb: number;
  maxHistoryEvents: number;
  runs: number;
  nothingLost: boolean;
}

/** 4. Scale: a 1,000,000-member activation at a raised simulator limit. */
export async function benchScale(members = 1_000_000, env: Record<string, string> = {}): Promise<ScaleResult> {
  const stack = await startBenchStack(env);
  try {
    await stack.startWorkers(1);
    const file = membersFile(members);
    const { destinationId, portalId } = await benchDestination(stack, { tier: 'enterprise' });
    await stack.sim.admin.put(`/accounts/${portalId}/limits`, UNLIMITED);
    const end = await runActivation(stack, destinationId, file, BENCH_AUDIENCE, 2000);
    const t = await activationTimes(stack.client, end.activationId);
    const contacts = await simContactCount(stack, portalId);
    const wall = (t.endMs - t.startMs) / 1000;
    return {
      members,
      wallSeconds: round(wall),
      contactsPerSecond: Math.round(members / wall),
      workerPeakRssMb: peakRssMb(stack.workers[0].child.pid!),
      maxHistoryEvents: t.maxHistoryEvents,
      runs: t.runs,
      nothingLost: check(end, members) && contacts === members,
    };
  } finally {
    await stack.stop();
  }
}

export interface SeveralWorkersResult {
  workers: number;
  limitPer10s: number;
  members: number;
  calls: number;
  measuredSeconds: number;
  idealSeconds: number;
  ratio: number;
  contactsPerSecond: number;
  ceilingContactsPerSecond: number;
  maxRequestsIn10s: number;
  rate429: number;
  nothingLost: boolean;
}

/** 5. Two worker processes, two activations on one Professional account: combined throughput ÷ ceiling. */
export async function benchSeveralWorkers(membersEach = 50_000, env: Record<string, string> = {}): Promise<SeveralWorkersResult> {
  const stack = await startBenchStack(env);
  try {
    await stack.startWorkers(2);
    const file = membersFile(membersEach);
    const { destinationId, portalId } = await benchDestination(stack, { tier: 'pro' });
    await stack.sim.admin.delete('/stats');
    const ends = await Promise.all([
      runActivation(stack, destinationId, file, SAMPLE_AUDIENCES[0]),
      runActivation(stack, destinationId, membersFile(membersEach, 2), SAMPLE_AUDIENCES[0]),
    ]);
    const times = await Promise.all(ends.map((e) => activationTimes(stack.client, e.activationId)));
    const start = Math.min(...times.map((t) => t.startMs));
    const end = Math.max(...times.map((t) => t.endMs));
    const stats = await simStats(stack);
    const portal = stats.portals[String(portalId)];
    const measured = (end - start) / 1000;
    const ideal = idealSeconds(portal.requests, 190);
    return {
      workers: 2,
      limitPer10s: 190,
      members: 2 * membersEach,
      calls: portal.requests,
      measuredSeconds: round(measured),
      idealSeconds: ideal,
      ratio: round(ideal / measured, 3),
      contactsPerSecond: Math.round((2 * membersEach) / measured),
      ceilingContactsPerSecond: 1900,
      maxRequestsIn10s: portal.maxRequestsIn10s,
      rate429: round(portal.rateLimited / portal.requests, 4),
      nothingLost: ends.every((e) => check(e, membersEach)),
    };
  } finally {
    await stack.stop();
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
