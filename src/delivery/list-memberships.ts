/**
 * Writes one audience's HubSpot list memberships by record id (docs/dataflows.md, "Audiences as lists"):
 * members to add and to remove are buffered and sent in calls of at most `maxIds` record ids (one
 * add-and-remove call when both are pending). Record ids come from the confirmed-state memory (upsert
 * results). When HubSpot answers that ids are missing (the contact was merged into another, or archived),
 * the members are resolved again — by email (batch read with `idProperty=email`, matching primary and
 * additional emails and `hs_merged_object_ids`), or, for a leaver whose email the service does not
 * hold, by its merged id (search on `hs_merged_object_ids`) — the remembered id is replaced and the
 * write is retried once. Nothing is dropped silently: a member still not found is a stored rejection
 * with its reason (and forgotten by the memory, so the next run upserts it again); a leaver HubSpot no
 * longer has at all is counted as gone (it cannot be in the list).
 */
import type { HubSpotClient, MembershipChange } from '../hubspot/client';
import type { SourceRecord } from '../members/types';
import type { ContactMemory } from '../store/contact-memory';
import type { RejectionStore } from '../store/types';

export const LIST_MEMBER_NOT_FOUND = 'LIST_MEMBER_NOT_FOUND';

/** One member to write: its record id, and (once known) its email and source record. */
export interface ListMember {
  recordId: string;
  keyHash: string;
  email?: string;
  line?: number;
  record?: SourceRecord;
  /** Remembered but not in this run's snapshot (exitMissing): the service holds no email for it. */
  leaver?: boolean;
}

export interface ListWriteCounts {
  added: number;
  removed: number;
  reResolved: number;
  rejected: number;
  gone: number;
}

export interface ListWriterOptions {
  client: Pick<
    HubSpotClient,
    'addListMembers' | 'removeListMembers' | 'addAndRemoveListMembers' | 'batchReadContactsByEmail' | 'searchContactByMergedId'
  >;
  listId: string;
  listName: string;
  audienceId: string;
  activationId: string;
  destinationId: string;
  memory: Pick<ContactMemory, 'updateRecordIds' | 'forgetContacts'>;
  rejections: RejectionStore;
  /** Record ids per call (HubSpot's per-call limit). */
  maxIds: number;
  /** After each call: leavers whose removal is settled (removed or gone). */
  onLeaversSettled?: (keyHashes: string[]) => Promise<void>;
  /** Fills `email`, `line` and `record` of snapshot members that lack them (only asked when HubSpot reports ids missing). */
  fillEmails?: (members: ListMember[]) => Promise<void>;
}

const READ_BATCH = 100;
const RESOLVE_PROPERTIES = ['email', 'hs_additional_emails', 'hs_merged_object_ids'];

export class ListMembershipWriter {
  readonly counts: ListWriteCounts = { added: 0, removed: 0, reResolved: 0, rejected: 0, gone: 0 };
  private adds: ListMember[] = [];
  private removes: ListMember[] = [];

  constructor(private readonly o: ListWriterOptions) {}

  async add(m: ListMember): Promise<void> {
    this.adds.push(m);
    if (this.adds.length + this.removes.length >= this.o.maxIds) await this.flush();
  }

  async remove(m: ListMember): Promise<void> {
    this.removes.push(m);
    if (this.adds.length + this.removes.length >= this.o.maxIds) await this.flush();
  }

  /** Sends what is buffered (and the retries of missing members). */
  async flush(): Promise<void> {
    const adds = this.adds;
    const removes = this.removes;
    this.adds = [];
    this.removes = [];
    if (adds.length === 0 && removes.length === 0) return;
    const missing = await this.send(adds, removes);
    const missingAdds = adds.filter((m) => missing.has(m.recordId));
    const missingRemoves = removes.filter((m) => missing.has(m.recordId));
    this.counts.added += adds.length - missingAdds.length;
    this.counts.removed += removes.length - missingRemoves.length;
    const settledLeavers = removes.filter((m) => m.leaver && !missing.has(m.recordId)).map((m) => m.keyHash);
    if (missingAdds.length || missingRemoves.length) {
      const needEmail = [...missingAdds, ...missingRemoves].filter((m) => !m.email && !m.leaver);
      if (needEmail.length && this.o.fillEmails) await this.o.fillEmails(needEmail);
      const found = await this.resolve([...missingAdds, ...missingRemoves]);
      const retryAdds = missingAdds.filter((m) => found.has(m)).map((m) => ({ ...m, recordId: found.get(m)! }));
      const retryRemoves = missingRemoves.filter((m) => found.has(m)).map((m) => ({ ...m, recordId: found.get(m)! }));
      await this.o.memory.updateRecordIds(
        this.o.destinationId,
        [...retryAdds, ...retryRemoves].map((m) => ({ keyHash: m.keyHash, recordId: m.recordId })),
      );
      // Retried once, in calls within the limit; what HubSpot still lacks is not written.
      const stillMissing = new Set<string>();
      const retry = [...retryAdds.map((m) => ({ m, add: true })), ...retryRemoves.map((m) => ({ m, add: false }))];
      for (let i = 0; i < retry.length; i += this.o.maxIds) {
        const part = retry.slice(i, i + this.o.maxIds);
        const missingAgain = await this.send(
          part.filter((x) => x.add).map((x) => x.m),
          part.filter((x) => !x.add).map((x) => x.m),
        );
        for (const id of missingAgain) stillMissing.add(id);
      }
      const ok = (m: ListMember) => !stillMissing.has(m.recordId);
      this.counts.added += retryAdds.filter(ok).length;
      this.counts.removed += retryRemoves.filter(ok).length;
      this.counts.reResolved += [...retryAdds, ...retryRemoves].filter(ok).length;
      const lost = [
        ...missingAdds.filter((m) => !found.has(m)),
        ...missingRemoves.filter((m) => !found.has(m)),
        ...[...retryAdds, ...retryRemoves].filter((m) => !ok(m)),
      ];
      await this.reject(lost.filter((m) => m.record));
      const goneLeavers = lost.filter((m) => !m.record);
      this.counts.gone += goneLeavers.length;
      settledLeavers.push(
        ...goneLeavers.filter((m) => m.leaver).map((m) => m.keyHash),
        ...retryRemoves.filter((m) => m.leaver && ok(m)).map((m) => m.keyHash),
      );
    }
    if (settledLeavers.length && this.o.onLeaversSettled) await this.o.onLeaversSettled(settledLeavers);
  }

  /** One membership call (the endpoint that fits); returns the ids HubSpot reported missing. */
  private async send(adds: ListMember[], removes: ListMember[]): Promise<Set<string>> {
    if (adds.length === 0 && removes.length === 0) return new Set();
    const add = adds.map((m) => m.recordId);
    const remove = removes.map((m) => m.recordId);
    let change: MembershipChange;
    if (remove.length === 0) change = await this.o.client.addListMembers(this.o.listId, add);
    else if (add.length === 0) change = await this.o.client.removeListMembers(this.o.listId, remove);
    else change = await this.o.client.addAndRemoveListMembers(this.o.listId, { add, remove });
    return new Set(change.missing);
  }

  /** The current record id of members whose remembered one HubSpot no longer has. */
  private async resolve(members: ListMember[]): Promise<Map<ListMember, string>> {
    const found = new Map<ListMember, string>();
    const byEmail = members.filter((m) => m.email);
    for (let i = 0; i < byEmail.length; i += READ_BATCH) {
      const part = byEmail.slice(i, i + READ_BATCH);
      const records = await this.o.client.batchReadContactsByEmail([...new Set(part.map((m) => m.email!))], RESOLVE_PROPERTIES);
      const idOf = new Map<string, string>();
      for (const r of records) {
        const p = r.properties;
        for (const e of [p.email, ...(p.hs_additional_emails ?? '').split(';')]) if (e) idOf.set(e.toLowerCase(), r.id);
        for (const old of (p.hs_merged_object_ids ?? '').split(';')) if (old) idOf.set(`#${old}`, r.id);
      }
      for (const m of part) {
        const id = idOf.get(m.email!.toLowerCase()) ?? idOf.get(`#${m.recordId}`);
        if (id && id !== m.recordId) found.set(m, id);
      }
    }
    for (const m of members.filter((x) => !x.email)) {
      const c = await this.o.client.searchContactByMergedId(m.recordId, ['email']);
      if (c && c.id !== m.recordId) found.set(m, c.id);
    }
    return found;
  }

  private async reject(members: ListMember[]): Promise<void> {
    if (members.length === 0) return;
    this.counts.rejected += members.length;
    // Forgotten, so the next run (or a re-run of the rejected members) upserts them again: a new contact.
    await this.o.memory.forgetContacts(
      this.o.destinationId,
      members.map((m) => m.keyHash),
    );
    await this.o.rejections.add(
      this.o.activationId,
      members.map((m) => ({
        key: `list:${this.o.audienceId}:${m.line}`,
        line: m.line ?? 0,
        email: m.email,
        reason: {
          code: LIST_MEMBER_NOT_FOUND,
          message: `HubSpot no longer has a contact with this email (it was archived or deleted after its upsert), so it was not written to list "${this.o.listName}" (${this.o.listId}).`,
          origin: 'hubspot' as const,
        },
        record: m.record!,
      })),
    );
  }
}
