/**
 * Records a run's list intents while its pages are upserted, by watching the page's memory calls: a
 * contact's remembered state (looked up before its batch is sent) gives its membership as HubSpot holds
 * it now, and its confirmed state (after HubSpot accepted the upsert) replaces it. So unchanged contacts
 * (never sent again) and changed ones both get an intent, with the record id of the upsert result or the
 * memory; a contact whose upsert was rejected keeps the membership it had. Both are recorded before the
 * batch's checkpoint, so a resumed page loses none.
 */
import type { MemberStatus } from '../members/types';
import type { ContactMemory } from '../store/contact-memory';
import type { ListIntent, ListIntents } from '../store/list-intents';

type PageStore = Pick<ContactMemory, 'keyOf' | 'resolve' | 'lookup' | 'confirm' | 'markSeen'>;

function opOf(status: MemberStatus | undefined): ListIntent['op'] | undefined {
  if (status === 'realized' || status === 'existing') return 'add';
  if (status === 'exited') return 'remove';
  return undefined;
}

export function recordingListIntents(
  store: PageStore,
  options: { intents: ListIntents; activationId: string; audienceIds: readonly string[] },
): PageStore {
  const idOf = new Map<string, string>();
  const intentsOf = (keyHash: string, recordId: string | undefined, statuses: Readonly<Record<string, MemberStatus>> | undefined) => {
    const out: ListIntent[] = [];
    if (!recordId) return out;
    for (const audienceId of options.audienceIds) {
      const op = opOf(statuses?.[audienceId]);
      if (op) out.push({ audienceId, keyHash, recordId, op });
    }
    return out;
  };
  return {
    keyOf: (destinationId, email) => store.keyOf(destinationId, email),
    // A second read of contacts the previous page held: their intents came with that page's confirms.
    lookup: (destinationId, keyHashes) => store.lookup(destinationId, keyHashes),
    markSeen: (destinationId, runId, keyHashes) => store.markSeen(destinationId, runId, keyHashes),
    async resolve(destinationId, contacts, resolveOptions) {
      const resolved = await store.resolve(destinationId, contacts, { ...resolveOptions, rows: true });
      const intents: ListIntent[] = [];
      for (const { remembered: row } of resolved) {
        if (!row) continue;
        if (row.recordId) idOf.set(row.keyHash, row.recordId);
        intents.push(...intentsOf(row.keyHash, row.recordId ?? undefined, row.statuses));
      }
      if (intents.length) await options.intents.record(options.activationId, intents);
      return resolved;
    },
    async confirm(destinationId, rows, confirmOptions) {
      await store.confirm(destinationId, rows, confirmOptions);
      const intents = rows.flatMap((r) => intentsOf(r.keyHash, r.recordId ?? idOf.get(r.keyHash), r.statuses));
      if (intents.length) await options.intents.record(options.activationId, intents);
    },
  };
}
