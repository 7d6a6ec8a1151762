/**
 * Orphan rows of the ingest log: a request that crashed (or whose signal failed) after writing its rows and
 * before Temporal accepted its signal got no 202, and its rows are referred to by no stream. They are
 * deleted by a flush of the stream (at most once a minute) when both hold:
 *  - the row's number is below the smallest one the stream still refers to (buffered, in flight, or
 *    accounted and not yet deleted): the stream will never read it;
 *  - it was written more than ORPHAN_AGE_MS before the stream decided the sweep: its signal, if any, can no
 *    longer arrive, because the API answers 202 only when the signal returned within MAX_SIGNAL_DELAY_MS of
 *    receipt (later: 503, and the client retries), and rows are numbered in write order.
 * A paused stream holding rows for days keeps them: they are referred to. Decision 25 (docs/decisions.md).
 */

/** Rows younger than this are never swept (their signal may still be on the wire). */
export const ORPHAN_AGE_MS = 10 * 60_000;
/** A stream sweeps at most this often (the first flush of each run sweeps). */
export const ORPHAN_SWEEP_EVERY_MS = 60_000;
/**
 * The API answers 202 only if the signal of a request returned within this time after its receipt
 * (a slower one answers 503: the update may be swept as an orphan, so the client must retry). Far below
 * ORPHAN_AGE_MS, which leaves room for clock skew between API hosts and Temporal.
 */
export const MAX_SIGNAL_DELAY_MS = 60_000;
