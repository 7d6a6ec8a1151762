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
import { START_CURSOR, type SourceRef } from '../src/members/types';
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
  /** As the page activity was given them, so records parse the same way. */
  audienceId: string;
  propertyName: string;
  audiences?: Array<{ id: string; propertyName: string }>;
  /** The list-encoded audiences and their lists. */
  lists: Array<{ audienceId: string; listId: string; listName: string; listOnly: boolean }>;
  source: SourceRef;
  exitMissing?: boolean;
  pageSize?: number;
  /** Record ids per membership call (default HubSpot's limit; tests lower it). */
  maxIdsPerCall?: number;
}

export function createAudienceListActivities(deps: ProcessPagesDeps) {
  /** A MANUAL list named `name` we may use: the one there (if MANUAL and `adopt`), or a new one. */
  async function manualList(client: HubSpotClient, name: string, adopt: boolean): Promise<HubSpotList | undefined> {
    const existing = await client.getListByName(name, CONTACTS);
    if (existing) return adopt && existing.processingType === 'MANUAL' ? existing : undefined;
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

  return {
    /**
     * The audience's MANUAL list: the stored one if HubSpot still has it; else a list named after the
     * audience — created by us, since a list of that name that we did not create is not ours — or, when
     * that name is taken, the name with the audience id appended (ours by construction: adopted if it is
     * a MANUAL list). The list id is stored with the audience.
     */
    async ensureAudienceList(input: { destinationId: string; audience: AudienceRef }): Promise<EnsureAudienceListResult> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        const client = clientFor(deps, d);
        const stored = await deps.destinations.audienceList(d.id, input.audience.id);
        if (stored) {
          const list = await client.getList(stored.listId);
          if (list && list.processingType === 'MANUAL') return { listId: list.listId, listName: list.name };
        }
        const list =
          (await manualList(client, input.audience.name, false)) ?? (await manualList(client, suffixedListName(input.audience), true));
        if (!list) {
          throw applicationFailure(
            Failure.HubSpotListConflict,
            `HubSpot already has lists named "${input.audience.name}" and "${suffixedListName(input.audience)}" that are not MANUAL lists of this service, so audience ${input.audience.id} has no list to write to. Rename one of them, then run again.`,
          );
        }
        await deps.destinations.recordAudienceList({
          destinationId: d.id,
          audienceId: input.audience.id,
          listId: list.listId,
          listName: list.name,
          createdAt: new Date().toISOString(),
        });
        return { listId: list.listId, listName: list.name };
      });
    },

    /**
     * After the run's upserts: adds the members realized/existing in each list-encoded audience, removes
     * the exited ones and (exitMissing) the remembered members the snapshot lacks, by the record ids the
     * memory holds. Re-reads the source (the emails are needed to find merged contacts again). Idempotent:
     * a retry writes the same memberships again.
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
        const client = clientFor(deps, d, { signal: ctx.cancellationSignal });
        const properties = await deps.propertyCache.get(propertyCacheKey(d), client);
        const maxIds = Math.min(input.maxIdsPerCall ?? MAX_LIST_MEMBERSHIP_IDS, MAX_LIST_MEMBERSHIP_IDS);
        const writers = input.lists.map((l) => {
          const writer = new ListMembershipWriter({
            client,
            listId: l.listId,
            listName: l.listName,
            audienceId: l.audienceId,
            activationId: input.activationId,
            destinationId: d.id,
            memory: deps.contactMemory,
            rejections: deps.rejections,
            maxIds,
            // List-only audiences have no status property: writeExits does not see them, so their exits are recorded here.
            ...(l.listOnly
              ? {
                  onLeaversSettled: (keys: string[]) =>
                    deps.contactMemory.recordExits(
                      d.id,
                      keys.map((keyHash) => ({ keyHash, audienceIds: [l.audienceId] })),
                    ),
                }
              : {}),
          });
          const summary: AudienceListSummary = {
            listId: l.listId,
            listName: l.listName,
            added: 0,
            removed: 0,
            reResolved: 0,
            rejected: 0,
            notUpserted: 0,
            gone: 0,
          };
          summaries[l.audienceId] = summary;
          return { l, writer, summary };
        });
        const sync = () => {
          for (const w of writers) Object.assign(w.summary, w.writer.counts);
        };

        // Members in the source: their statuses as the page activity read them, their ids from the memory.
        const pageSize = Math.min(input.pageSize ?? deps.defaultPageSize, 5000);
        let cursor = START_CURSOR;
        for (;;) {
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          const page = await deps.sourceReader.readPage(input.source, cursor, pageSize);
          const byLine = new Map(page.records.map((r) => [r.line, r]));
          const pre = preparePage(page.records, {
            audienceId: input.audienceId,
            audiencePropertyName: input.propertyName,
            ...(input.audiences ? { audiences: input.audiences } : {}),
            mapping: d.mapping,
            properties,
          });
          const keyOf = new Map(pre.ready.map((c) => [c, deps.emailHasher(d.id, c.email)]));
          const remembered = await deps.contactMemory.lookup(d.id, [...keyOf.values()]);
          for (const c of pre.ready) {
            const keyHash = keyOf.get(c)!;
            const row = remembered.get(keyHash);
            const statuses = c.statuses ?? { [input.audienceId]: c.status };
            for (const w of writers) {
              const status = statuses[w.l.audienceId];
              // In the snapshot but no longer in the audience: exited (exitMissing runs only; the page activity wrote it).
              const exited =
                status === 'exited' || (status === undefined && input.exitMissing && row?.statuses[w.l.audienceId] === 'exited');
              if (status === undefined && !exited) continue;
              if (!row?.recordId) {
                w.summary.notUpserted++;
                continue;
              }
              const member: ListMember = { recordId: row.recordId, keyHash, email: c.email, line: c.line, record: byLine.get(c.line) };
              if (exited) await w.writer.remove(member);
              else await w.writer.add(member);
            }
          }
          sync();
          if (page.done) break;
          cursor = page.next;
        }

        // exitMissing: remembered members the snapshot lacks leave the list (by id; the service holds no email for them).
        if (input.exitMissing) {
          for (const w of writers) {
            let after = '';
            for (;;) {
              const rows = await deps.contactMemory.pageAbsentMembers(d.id, [w.l.audienceId], input.activationId, after, 1000);
              if (rows.length === 0) break;
              after = rows[rows.length - 1].keyHash;
              for (const r of rows) {
                if (r.recordId) await w.writer.remove({ recordId: r.recordId, keyHash: r.keyHash });
                else w.summary.gone++;
              }
            }
          }
        }
        for (const w of writers) await w.writer.flush();
        sync();
        return { lists: summaries };
      } catch (err) {
        throw toFailure(err);
      } finally {
        stop();
      }
    },
  };
}
