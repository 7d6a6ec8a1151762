/** Next local midnight in an IANA time zone (HubSpot's daily limit resets then, https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). */
function offsetMs(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

export function nextMidnightIn(timeZone: string, now = Date.now()): number {
  let tz = timeZone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    tz = 'UTC'; // unknown zone name: UTC midnight is the safe guess
  }
  const local = now + offsetMs(tz, now);
  const d = new Date(local);
  const localMidnightNext = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  // Convert local wall time back to UTC using the offset at that instant (handles DST shifts).
  const guess = localMidnightNext - offsetMs(tz, localMidnightNext - offsetMs(tz, now));
  return guess > now ? guess : guess + 24 * 3600 * 1000;
}
