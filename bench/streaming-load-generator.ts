/**
 * Load generator of bench/streaming-latency.ts, in its own process so sending requests does not take CPU
 * from the stack being measured. Open loop: request i leaves at start + i / rate, whatever the answers.
 * Input (env): LOAD_URL, LOAD_API_KEY, LOAD_RATE, LOAD_TOTAL, LOAD_AUDIENCE_ID.
 * Output: one JSON line on stdout, `{ sent: [[email, sentAtMs, status], ...] }`.
 */
import http from 'node:http';

const url = new URL(process.env.LOAD_URL!);
const key = process.env.LOAD_API_KEY!;
const rate = Number(process.env.LOAD_RATE);
const total = Number(process.env.LOAD_TOTAL);
const audienceId = process.env.LOAD_AUDIENCE_ID!;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(body: string): Promise<number> {
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
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function main(): Promise<void> {
  const sent: Array<[string, number, number]> = [];
  const pending: Array<Promise<void>> = [];
  const started = Date.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
      while (next < due) {
        const i = next++;
        const email = `stream${i}@bench.example.com`;
        const now = new Date().toISOString();
        const body = JSON.stringify({
          identityMap: { Email: [{ id: email, primary: true }] },
          timestamp: now,
          person: { name: { firstName: `First${i}`, lastName: 'Bench' } },
          workAddress: { city: 'Lisbon', country: 'Portugal' },
          segmentMembership: { ups: { [audienceId]: { status: 'realized', lastQualificationTime: now } } },
        });
        const row: [string, number, number] = [email, Date.now(), 0];
        sent.push(row);
        pending.push(
          post(body).then((status) => {
            row[2] = status;
          }),
        );
      }
      if (next >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  process.stdout.write(JSON.stringify({ sent }) + '\n');
}

void main();
