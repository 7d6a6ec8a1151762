/**
 * Lists benchmark (issue 14): 100,000 members to a HubSpot list (`encoding: "list"`) on a Professional
 * account (190 calls / 10 s). Two figures from one run: the calls the run made (batch upserts + membership
 * writes) against the fewest the limits allow (⌈members ÷ 100⌉ upserts + ⌈membership ids ÷ 100,000⌉
 * membership calls), and ceiling efficiency as bench/activation-benches.ts measures it (shortest time the
 * rolling window allows for all the portal's calls ÷ measured). The list is checked against the summary.
 */
import type { Client } from '@temporalio/client';
import axios from 'axios';
import {
  activationTimes,
  BENCH_AUDIENCE,
  benchDestination,
  idealSeconds,
  membersFile,
  runActivation,
  simContactCount,
  simStats,
  startBenchStack,
  upsertCallsOf,
} from './lib/harness';

const LIST_SCOPES = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
  'crm.lists.read',
  'crm.lists.write',
];
/** HubSpot's per-call limits: 100 contacts per batch upsert, 100,000 record ids per membership call. */
const UPSERT_BATCH = 100;
const MEMBERSHIP_IDS = 100_000;

/** Seconds from the last page activity's completion to the run's close, and the list step's own run time. */
async function tail(client: Client, activationId: string): Promise<{ tailSeconds: number; listStepSeconds: number }> {
  let lastPages = 0;
  let close = 0;
  let listStep = 0;
  const ms = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${activationId}'` })) {
    const history = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
    const byId = new Map(history.map((e) => [Number(e.eventId), e]));
    for (const e of history) {
      const done = e.activityTaskCompletedEventAttributes;
      const name = done ? byId.get(Number(done.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name : undefined;
      if (name === 'processPages') lastPages = Math.max(lastPages, ms(e));
      if (done && name === 'writeListMemberships') listStep = ms(e) - ms(byId.get(Number(done.startedEventId))!);
    }
    close = Math.max(close, wf.closeTime?.getTime() ?? 0);
  }
  return { tailSeconds: round((close - lastPages) / 1000), listStepSeconds: round(listStep / 1000) };
}

export interface ListsResult {
  members: number;
  upsertCalls: number;
  membershipCalls: number;
  minimumCalls: number;
  callsRatio: number;
  portalCalls: number;
  idealSeconds: number;
  measuredSeconds: number;
  ceilingRatio: number;
  rate429: number;
  listSize: number;
  /** From the last page activity's end to the run's close, and the list step's own time, in seconds. */
  tailSeconds: number;
  listStepSeconds: number;
  nothingLost: boolean;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export async function benchLists(members = 100_000): Promise<ListsResult> {
  const stack = await startBenchStack();
  try {
    await stack.startWorkers(1);
    const file = membersFile(members);
    const { destinationId, portalId, token } = await benchDestination(stack, { tier: 'pro', scopes: LIST_SCOPES });
    await stack.sim.admin.delete('/stats');
    const audience = { ...BENCH_AUDIENCE, encoding: 'list' };
    const end = await runActivation(stack, destinationId, file, audience);
    const t = await activationTimes(stack.client, end.activationId);
    const stats = await simStats(stack);
    const portal = stats.portals[String(portalId)];
    const count = (match: (route: string) => boolean) =>
      Object.entries(stats.byRoute)
        .filter(([route]) => match(route))
        .reduce((n, [, byStatus]) => n + (byStatus['200'] ?? 0) + (byStatus['207'] ?? 0), 0);
    const upsertCalls = upsertCallsOf(stats.byRoute);
    const membershipCalls = count((r) => r.includes('/memberships'));
    const list = end.summary?.lists?.[BENCH_AUDIENCE.id] as
      { listId: string; added: number; removed: number; rejected: number } | undefined;
    const written = (list?.added ?? 0) + (list?.removed ?? 0);
    const minimumCalls = Math.ceil(members / UPSERT_BATCH) + Math.ceil(written / MEMBERSHIP_IDS);
    const measured = (t.endMs - t.startMs) / 1000;
    const ideal = idealSeconds(portal.requests, 190);
    // Read after the stats: the check's own call is not counted.
    const size = list
      ? Number(
          (await axios.get(`${stack.sim.url}/crm/v3/lists/${list.listId}`, { headers: { Authorization: `Bearer ${token}` } })).data.list
            .size,
        )
      : -1;
    const contacts = await simContactCount(stack, portalId);
    const { tailSeconds, listStepSeconds } = await tail(stack.client, end.activationId);
    const s = end.summary;
    return {
      members,
      upsertCalls,
      membershipCalls,
      minimumCalls,
      callsRatio: round((upsertCalls + membershipCalls) / minimumCalls, 3),
      portalCalls: portal.requests,
      idealSeconds: ideal,
      measuredSeconds: round(measured),
      ceilingRatio: round(ideal / measured, 3),
      rate429: round(portal.rateLimited / portal.requests, 4),
      listSize: size,
      tailSeconds,
      listStepSeconds,
      nothingLost:
        end.status === 'completed' &&
        s?.received === members &&
        s.upserted === members &&
        s.rejected === 0 &&
        contacts === members &&
        written === members &&
        list?.rejected === 0 &&
        size === list?.added,
    };
  } finally {
    await stack.stop();
  }
}
