/**
 * One portal's lists (HubSpot's "segments", v3 Lists API): definitions with names unique per portal
 * (case-insensitive), and the record ids of each list's members. Members are kept as a Set of record ids
 * in join order; reads skip ids that are no longer live contacts (archived or merged away), which is how
 * HubSpot drops deleted records from lists.
 */

export type ProcessingType = 'MANUAL' | 'SNAPSHOT' | 'DYNAMIC';
export const PROCESSING_TYPES: readonly ProcessingType[] = ['MANUAL', 'SNAPSHOT', 'DYNAMIC'];

export interface ListDef {
  listId: number;
  name: string;
  objectTypeId: string;
  processingType: ProcessingType;
  createdAt: string;
  updatedAt: string;
  listVersion: number;
  filterBranch?: unknown;
}

export interface ListStoreState {
  nextId: number;
  lists: Array<ListDef & { members: number[] }>;
}

/** Memberships only MANUAL and SNAPSHOT lists accept from the API. */
export const writable = (l: ListDef): boolean => l.processingType === 'MANUAL' || l.processingType === 'SNAPSHOT';

export class ListStore {
  private readonly byId = new Map<number, { def: ListDef; members: Set<number> }>();
  private readonly byName = new Map<string, number>();
  private nextId: number;

  constructor(state?: ListStoreState) {
    this.nextId = state?.nextId ?? 1;
    for (const l of state?.lists ?? []) {
      const { members, ...def } = l;
      this.byId.set(def.listId, { def, members: new Set(members) });
      this.byName.set(def.name.toLowerCase(), def.listId);
    }
  }

  get count(): number {
    return this.byId.size;
  }

  /** How many lists of these processing types the portal holds (the tier caps count them). */
  countOf(types: readonly ProcessingType[]): number {
    let n = 0;
    for (const { def } of this.byId.values()) if (types.includes(def.processingType)) n++;
    return n;
  }

  get(listId: number): ListDef | undefined {
    return this.byId.get(listId)?.def;
  }

  byListName(name: string, objectTypeId: string): ListDef | undefined {
    const id = this.byName.get(name.toLowerCase());
    const def = id === undefined ? undefined : this.byId.get(id)?.def;
    return def && def.objectTypeId === objectTypeId ? def : undefined;
  }

  /** Whether any list (of any object type) already has this name. */
  nameTaken(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  create(def: Omit<ListDef, 'listId' | 'listVersion' | 'createdAt' | 'updatedAt'>, nowIso: string): ListDef {
    const listId = this.nextId++;
    const full: ListDef = { ...def, listId, listVersion: 1, createdAt: nowIso, updatedAt: nowIso };
    this.byId.set(listId, { def: full, members: new Set() });
    this.byName.set(def.name.toLowerCase(), listId);
    return full;
  }

  /** The member set (live ids are filtered by the caller, which knows the contacts). */
  members(listId: number): Set<number> {
    const l = this.byId.get(listId);
    if (!l) throw new Error(`No list ${listId}`);
    return l.members;
  }

  touch(listId: number, nowIso: string): void {
    const l = this.byId.get(listId);
    if (l) {
      l.def.updatedAt = nowIso;
      l.def.listVersion++;
    }
  }

  /** A merge: `fromId` leaves every list; `toId` joins the writable lists `fromId` was in (assumption, docs/hubspot-simulator.md). */
  moveMember(fromId: number, toId: number): void {
    for (const { def, members } of this.byId.values()) {
      if (!members.delete(fromId)) continue;
      if (writable(def)) members.add(toId);
    }
  }

  toState(): ListStoreState {
    return { nextId: this.nextId, lists: [...this.byId.values()].map(({ def, members }) => ({ ...def, members: [...members] })) };
  }
}

/** Lists a portal may hold per tier (HubSpot knowledge base, Lists FAQ): Starter 25 active + 25 static; Professional and Enterprise 1,500 each. */
export const LIST_CAPS: Record<'free' | 'starter' | 'pro' | 'enterprise', { dynamic: number; static: number }> = {
  free: { dynamic: 5, static: 1000 },
  starter: { dynamic: 25, static: 25 },
  pro: { dynamic: 1500, static: 1500 },
  enterprise: { dynamic: 1500, static: 1500 },
};

/** Record ids one membership call may carry (simulator default; see docs/hubspot-simulator.md, "Lists"). */
export const MAX_MEMBERSHIP_IDS_PER_CALL = 100_000;
/** Members one MANUAL/SNAPSHOT list may hold (simulator default; see docs/hubspot-simulator.md, "Lists"). */
export const MAX_LIST_MEMBERS = 1_000_000;
