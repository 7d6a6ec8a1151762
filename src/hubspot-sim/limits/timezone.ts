/** Time-zone arithmetic for the daily limit, which resets at midnight in the portal's zone. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws RangeError for a zone Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(timeZone: string, t: number): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** Offset of the zone from UTC at instant `t`, in milliseconds (e.g. -14400000 for EDT). */
export function utcOffsetMs(timeZone: string, t: number): number {
  const w = wallClock(timeZone, t);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** `-04:00` style rendering of an offset. */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const abs = Math.abs(offsetMs) / 60000;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${sign}${hh}:${mm}`;
}

/** The first instant after `t` at which the zone's wall clock reads 00:00 of the next day. */
export function nextMidnight(timeZone: string, t: number): number {
  const w = wallClock(timeZone, t);
  const targetWall = Date.UTC(w.year, w.month - 1, w.day + 1, 0, 0, 0);
  // Two rounds of "guess, then correct by the offset at the guess" settle across DST changes.
  let guess = targetWall - utcOffsetMs(timeZone, targetWall);
  guess = targetWall - utcOffsetMs(timeZone, guess);
  // Zones that skip midnight on a DST day land slightly off; never return a time in the past.
  return guess > t ? guess : t + 24 * 3600 * 1000;
}
