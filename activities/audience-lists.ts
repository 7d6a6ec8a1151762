/**
 * Activities of list-encoded audiences (docs/dataflows.md, "Audiences as lists"): ensure the audience's
 * MANUAL contact list (created once, its id stored with the audience), and, after the run's upserts,
 * write the list's memberships by record id through the governor.
 */
import { Context } from '@temporalio/activity';
import { ListMembershipWriter, type ListMember } from '../src/delivery/list-memberships';
import { preparePage } from '../src/delivery/process-page';
import { propertyCacheKey } from '../src/destinations/property-cache';
import { HubSpotApiError } from '../src/hubspot/errors';
import { MAX_LIST_MEMBERSHIP_IDS, type HubSpotClient, type HubSpotList } from '../src/hubspot/client';
import { START_CURSOR, type SourceRecord, type SourceRef } from '../src/members/types';
import type { DestinationRecord } from '../src/store/destinations';
import { applicationFailure, Failure } from '../src/failures';
import type { AudienceListSummary, AudienceRef } from '../workflows/types';
import { keepHeartbeating } from './heartbeat';
import { classified, clientFor, loadDestination, toFailure } from './hubspot-access';
import type { ProcessPagesDeps } from './process-pages';

const CONTACTS = '0-1';

/** The name of an audience's list when a list of the audience's own name exists and is not ours. */
export const suffixedListName = (a: AudienceRef): string => `${a.name} (${a.id})`;

export interface EnsureAudienceListResult {
  listId: string;
  listName: string;
}

export interface WriteListMembershipsInput {
  activationId: string;
  destinationId: string;
  portalId?: number;
  /** As the page activity was given them, so records parse the same way (for finding emails again). */
  audienceId: string;
  propertyName: string;
  audiences?: Array<{ id: string; propertyName: string }>;
  /** The list-encoded audiences (their lists were ensured at setup); `listOnly`: no status property. */
  lists: Array<{ audience: AudienceRef; listOnly: boolean }>;
  source: SourceRef;
  exitMissing?: boolean;
  pageSize?: number;
  /** Record ids per membership call (default HubSpot's limit; tests lower it). */
  maxIdsPerCall?: number;
}

export function createAudienceListActivities(deps: ProcessPagesDeps) {
  /**
   * A MANUAL list named `name` we may use: the one there (if MANUAL and `adopt`), or a new one. The name
   * is stored (without an id) before the create, so a retry after a crash mid-create adopts the list it
   * made instead of taking the next name.
   */
  async function manualList(
    client: HubSpotClient,
    destinationId: string,
    audience: AudienceRef,
    name: string,
    adopt: boolean,
  ): Promise<HubSpotList | undefined> {
    const existing = await client.getListByName(name, CONTACTS);
    if (existing) return adopt && existing.processingType === 'MANUAL' ? existing : undefined;
    await deps.destinations.recordAudienceList({
      destinationId,
      audienceId: audience.id,
      listId: '',
      listName: name,
      createdAt: new Date().toISOString(),
    });
    try {
      return await client.createList({ name, objectTypeId: CONTACTS, processingType: 'MANUAL' });
    } catch (err) {
      // Created meanwhile (names are unique per portal): look again.
      if (err instanceof HubSpotApiError && err.kind === 'conflict') {
        const now = await client.getListByName(name, CONTACTS);
        return now && adopt && now.processingType === 'MANUAL' ? now : undefined;
      }
      throw err;
    }
  }

  /**
   * The audience's MANUAL list: the stored one if HubSpot still has it; else a list named after the
   * audience — created by us, since a list of that name that we did not create is not ours — or, when
   * that name is taken, the name with the audience id appended (ours by construction: adopted if it is
   * a MANUAL list). The list id is stored with the audience.
   */
  async function ensureList(client: HubSpotClient, destinationId: string, audience: AudienceRef): Promise<EnsureAudienceListResult> {
    const stored = await deps.destinations.audienceList(destinationId, audience.id);
    // No id: our create of that name was under way when an earlier attempt stopped; the list is ours.
    const mine = stored && (stored.listId ? await client.getList(stored.listId) : await client.getListByName(stored.listName, CONTACTS));
    let list = mine && mine.processingType === 'MANUAL' ? mine : undefined;
    if (list && stored?.listId) return { listId: list.listId, listName: list.name };
    list ??=
      (await manualList(client, destinationId, audience, audience.name, false)) ??
      (await manualList(client, destinationId, audience, suffixedListName(audience), true));
    if (!list) {
      throw applicationFailure(
        Failure.HubSpotListConflict,
        `HubSpot already has lists named "${audience.name}" and "${suffixedListName(audience)}" that are not MANUAL lists of this service, so audience ${audience.id} has no list to write to. Rename one of them, then run again.`,
      );
    }
    await deps.destinations.recordAudienceList({
      destinationId,
      audienceId: audience.id,
      listId: list.listId,
      listName: list.name,
      createdAt: new Date().toISOString(),
    });
    return { listId: list.listId, listName: list.name };
  }

  /** Key hash → email, line and record of every member in the source (read once, only to find merged contacts again). */
  async function sourceEmails(
    input: WriteListMembershipsInput,
    d: DestinationRecord,
  ): Promise<Map<string, { email: string; line: number; record: SourceRecord }>> {
    const client = clientFor(deps, d);
    const properties = await deps.propertyCache.get(propertyCacheKey(d), client);
    const out = new Map<string, { email: string; line: number; record: SourceRecord }>();
    let cursor = START_CURSOR;
    for (;;) {
      const page = await deps.sourceReader.readPage(input.source, cursor, Math.min(input.pageSize ?? deps.defaultPageSize, 5000));
      const byLine = new Map(page.records.map((r) => [r.line, r]));
      const pre = preparePage(page.records, {
        audienceId: input.audienceId,
        audiencePropertyName: input.propertyName,
        ...(input.audiences ? { audiences: input.audiences } : {}),
        mapping: d.mapping,
        properties,
      });
      for (const c of pre.ready)
        out.set(deps.contactMemory.keyOf(d.id, c.email), { email: c.email, line: c.line, record: byLine.get(c.line)! });
      if (page.done) return out;
      cursor = page.next;
    }
  }

  return {
    /** The audience's MANUAL list, created once (see ensureList). */
    async ensureAudienceList(input: { destinationId: string; audience: AudienceRef }): Promise<EnsureAudienceListResult> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        return ensureList(clientFor(deps, d), d.id, input.audience);
      });
    },

    /**
     * After the run's upserts: writes each list-encoded audience's memberships as the pages recorded them
     * (list intents: add realized/existing, remove exited), then, with exitMissing, removes the remembered
     * members the snapshot lacks. The source is read again only if HubSpot reports record ids missing (the
     * emails are needed to find merged contacts). Idempotent: a retry writes the same memberships again.
     */
    async writeListMemberships(input: WriteListMembershipsInput): Promise<{ lists: Record<string, AudienceListSummary> }> {
      const ctx = Context.current();
      const summaries: Record<string, AudienceListSummary> = {};
      const stop = keepHeartbeating(ctx, { floorMs: 500, details: () => summaries });
      try {
        const d = await loadDestination(deps, input.destinationId);
        if (input.portalId !== undefined && d.portalId !== input.portalId) {
          throw applicationFailure(
            Failure.DestinationPortalChanged,
            `Destination ${d.id} now points at HubSpot portal ${d.portalId}, but this run started on portal ${input.portalId}; no list memberships were written.`,
          );
        }
        const intents = deps.listIntents;
        if (!intents) throw new Error('The worker was built without listIntents.');
        const client = clientFor(deps, d, { signal: ctx.cancellationSignal });
        const maxIds = Math.min(input.maxIdsPerCall ?? MAX_LIST_MEMBERSHIP_IDS, MAX_LIST_MEMBERSHIP_IDS);

        // Emails of snapshot members, read from the source again on the first missing id only.
        let byKey: Promise<Map<string, { email: string; line: number; record: SourceRecord }>> | undefined;
        const fillEmails = async (members: ListMember[]) => {
          byKey ??= sourceEmails(input, d);
          const known = await byKey;
          for (const m of members) {
            const k = known.get(m.keyHash);
            if (k) Object.assign(m, k);
          }
        };

        for (const { audience, listOnly } of input.lists) {
          const list = (await deps.destinations.audienceList(d.id, audience.id)) ?? (await ensureList(client, d.id, audience));
          const summary: AudienceListSummary = {
            listId: list.listId,
            listName: list.listName,
            added: 0,
            removed: 0,
            reResolved: 0,
            rejected: 0,
            gone: 0,
          };
          summaries[audience.id] = summary;
          const writer = new ListMembershipWriter({
            client,
            listId: list.listId,
            listName: list.listName,
            audienceId: audience.id,
            activationId: input.activationId,
            destinationId: d.id,
            memory: deps.contactMemory,
            rejections: deps.rejections,
            maxIds,
            fillEmails,
            // List-only audiences have no status property: writeExits does not see them, so their exits are recorded here.
            ...(listOnly
              ? {
                  onLeaversSettled: (keys: string[]) =>
                    deps.contactMemory.recordExits(
                      d.id,
                      keys.map((keyHash) => ({ keyHash, audienceIds: [audience.id] })),
                    ),
                }
              : {}),
          });
          let after = '';
          for (;;) {
            if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
            const rows = await intents.page(input.activationId, audience.id, after, 25_000);
            if (rows.length === 0) break;
            after = rows[rows.length - 1].keyHash;
            for (const r of rows) {
              const m: ListMember = { recordId: r.recordId, keyHash: r.keyHash };
              if (r.op === 'add') await writer.add(m);
              else await writer.remove(m);
            }
            Object.assign(summary, writer.counts);
          }
          // exitMissing: remembered members the snapshot lacks leave the list (by id; the service holds no email for them).
          let goneWithoutId = 0;
          if (input.exitMissing) {
            after = '';
            for (;;) {
              const rows = await deps.contactMemory.pageAbsentMembers(d.id, [audience.id], input.activationId, after, 1000);
              if (rows.length === 0) break;
              after = rows[rows.length - 1].keyHash;
              for (const r of rows) {
                if (r.recordId) await writer.remove({ recordId: r.recordId, keyHash: r.keyHash, leaver: true });
                else goneWithoutId++;
              }
            }
          }
          await writer.flush();
          Object.assign(summary, writer.counts);
          summary.gone += goneWithoutId;
        }
        // Dropping the run's intents is cleanup, not part of the answer: it runs on after the activity returns
        // (a lost delete leaves rows no later run reads: they are keyed by this activation).
        intents.end(input.activationId).catch(() => undefined);
        return { lists: summaries };
      } catch (err) {
        throw toFailure(err);
      } finally {
        stop();
      }
    },
  };
}
