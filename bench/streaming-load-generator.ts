/**
 * Load generator of bench/streaming-latency.ts, in its own process so sending requests does not take CPU
 * from the stack being measured.
 *
 *  - `rate` mode (open loop): on every destination, request i leaves at start + i / rate, whatever the
 *    answers; a refused request (429, 5xx) is counted, not retried.
 *  - `burst` mode: `total` updates per destination in requests of `batch` profiles, as fast as the client
 *    can (`concurrency` requests in flight); a 429 is retried after its Retry-After-Ms (the API's
 *    sub-second hint), else its Retry-After, as a client should.
 *
 * Input (env): LOAD_URLS (comma-separated profile URLs, one per destination), LOAD_API_KEY, LOAD_MODE,
 * LOAD_RATE (per destination), LOAD_TOTAL (per destination), LOAD_BATCH, LOAD_CONCURRENCY, LOAD_AUDIENCE_ID;
 * `rate` mode only: LOAD_WARMUP_URL and LOAD_WARMUP_SECONDS (a warm-up at the same rate, not recorded).
 * Output: one JSON line on stdout, `{ requests: [[destination, firstIndex, count, sentAtMs, answeredAtMs, status, tries], ...] }`
 * (sentAt: the first try, so back-pressure waits count in the latency). Email of update i of destination d:
 * `loadEmail(d, i)`.
 */
import http from 'node:http';

export const loadEmail = (d: number, i: number): string => `stream${i}@d${d}.bench.example.com`;
/** The destination index of warm-up updates (never a measured one). */
const WARMUP_DESTINATION = 999;

export type LoadRow = [
  destination: number,
  first: number,
  count: number,
  sentAt: number,
  answeredAt: number,
  status: number,
  tries: number,
];

function profile(d: number, i: number, audienceId: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    identityMap: { Email: [{ id: loadEmail(d, i), primary: true }] },
    timestamp: now,
    person: { name: { firstName: `First${i}`, lastName: 'Bench' } },
    workAddress: { city: 'Lisbon', country: 'Portugal' },
    segmentMembership: { ups: { [audienceId]: { status: 'realized', lastQualificationTime: now } } },
  };
}

async function main(): Promise<void> {
  const urls = process.env.LOAD_URLS!.split(',').map((u) => new URL(u));
  const key = process.env.LOAD_API_KEY!;
  const mode = process.env.LOAD_MODE ?? 'rate';
  const rate = Number(process.env.LOAD_RATE);
  const total = Number(process.env.LOAD_TOTAL);
  const batch = Number(process.env.LOAD_BATCH ?? 1);
  const concurrency = Number(process.env.LOAD_CONCURRENCY ?? 8);
  const audienceId = process.env.LOAD_AUDIENCE_ID!;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  function post(url: URL, body: string): Promise<{ status: number; retryAfterMs: number }> {
    return new Promise((resolve) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` },
        },
        (res) => {
          res.resume();
          // The API's sub-second hint (Retry-After-Ms) when it gives one, else the standard header (seconds).
          const ms = Number(res.headers['retry-after-ms']);
          const retryAfter = Number(res.headers['retry-after']);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfterMs: Number.isFinite(ms) && ms > 0 ? ms : Number.isFinite(retryAfter) ? retryAfter * 1000 : 1000,
            }),
          );
        },
      );
      req.on('error', () => resolve({ status: 0, retryAfterMs: 1000 }));
      req.end(body);
    });
  }

  const rows: LoadRow[] = [];
  if (mode === 'burst') {
    // Each destination: requests of `batch` profiles, `concurrency` in flight, 429s retried after Retry-After.
    await Promise.all(
      urls.map(async (url, d) => {
        let next = 0;
        const lane = async () => {
          while (next < total) {
            const first = next;
            const count = Math.min(batch, total - first);
            next += count;
            const body = JSON.stringify(Array.from({ length: count }, (_, k) => profile(d, first + k, audienceId)));
            const sentAt = Date.now();
            let tries = 0;
            for (;;) {
              tries++;
              const { status, retryAfterMs } = await post(url, body);
              if (status === 429 || status === 503 || status === 0) {
                await new Promise((r) => setTimeout(r, Math.min(retryAfterMs, 5000)));
                continue;
              }
              rows.push([d, first, count, sentAt, Date.now(), status, tries]);
              break;
            }
          }
        };
        await Promise.all(Array.from({ length: concurrency }, lane));
      }),
    );
  } else {
    // Warm-up (LOAD_WARMUP_URL, LOAD_WARMUP_SECONDS): the same rate to another destination, not recorded,
    // so the API process (JIT, this client's keep-alive sockets) is warm when the measured stream starts.
    const warmUrl = process.env.LOAD_WARMUP_URL ? new URL(process.env.LOAD_WARMUP_URL) : undefined;
    const warmTotal = Math.round(rate * Number(process.env.LOAD_WARMUP_SECONDS ?? 0));
    if (warmUrl && warmTotal > 0) {
      const warm: Array<Promise<unknown>> = [];
      const warmStarted = Date.now();
      let w = 0;
      while (w < warmTotal) {
        const due = Math.min(warmTotal, Math.floor(((Date.now() - warmStarted) / 1000) * rate) + 1);
        while (w < due) warm.push(post(warmUrl, JSON.stringify(profile(WARMUP_DESTINATION, w++, audienceId))));
        await new Promise((r) => setTimeout(r, 2));
      }
      await Promise.all(warm);
      // Let the warm-up stream drain before the measured one starts.
      await new Promise((r) => setTimeout(r, Number(process.env.LOAD_WARMUP_PAUSE_MS ?? 2000)));
    }
    const pending: Array<Promise<void>> = [];
    const started = Date.now();
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
        while (next < due) {
          const i = next++;
          for (let d = 0; d < urls.length; d++) {
            const body = JSON.stringify(profile(d, i, audienceId));
            const row: LoadRow = [d, i, 1, Date.now(), 0, 0, 1];
            rows.push(row);
            pending.push(
              post(urls[d], body).then(({ status }) => {
                row[4] = Date.now();
                row[5] = status;
              }),
            );
          }
        }
        if (next >= total) resolve();
        else setTimeout(tick, 2);
      };
      tick();
    });
    await Promise.all(pending);
  }
  agent.destroy();
  process.stdout.write(JSON.stringify({ requests: rows }) + '\n');
}

if (require.main === module) void main();
