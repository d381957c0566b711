import { decodeMessage } from '@offsync/core/codec';
import { prng } from '@offsync/testkit';
import { sleep } from './wait.js';

/** What a faulty `fetch` does to sync requests; chances are per push or pull, between 0 and 1. */
export interface HttpFaults {
  /** The request never reaches the server (the network failed before it). */
  loseRequest: number;
  /** The server handles the request; its response is lost on the way back. */
  loseResponse: number;
  /** The request reaches the server twice, at once; the client gets one of the answers. */
  duplicate: number;
  /** An earlier request of this client reaches the server again first (a stale, late copy). */
  replayStale: number;
  /** Every request waits up to this many ms before leaving. */
  delayMs: number;
}

/** What the faulty `fetch` injected. */
export interface HttpFaultStats {
  lostRequests: number;
  lostResponses: number;
  duplicated: number;
  replayed: number;
}

/**
 * A `fetch` for {@link HttpTransport} that injects faults into sync requests (push and pull):
 * lost requests, lost responses after the server handled the request, duplicates and replays of
 * stale requests. Decisions come from a seeded generator.
 */
export function faultyFetch(faults: HttpFaults, seed: number, stats: HttpFaultStats): typeof fetch {
  const random = prng(seed);
  const history: { url: string; body: Uint8Array; headers: Record<string, string> }[] = [];
  const send = (
    url: string,
    body: Uint8Array,
    headers: Record<string, string>,
    init?: RequestInit,
  ) =>
    fetch(url, { method: 'POST', body: body as BodyInit, headers, signal: init?.signal ?? null });
  return async (input, init) => {
    const url = String(input);
    const body = new Uint8Array(init?.body as Uint8Array);
    const headers = { ...(init?.headers as Record<string, string>) };
    let type: string | undefined;
    try {
      type = decodeMessage(body).type;
    } catch {
      type = undefined;
    }
    if (faults.delayMs > 0) await sleep(random() * faults.delayMs);
    if (type === 'push' || type === 'pull') {
      const roll = random();
      let edge = faults.loseRequest;
      if (roll < edge) {
        stats.lostRequests++;
        throw new TypeError('fetch failed (injected: the request was lost)');
      }
      edge += faults.loseResponse;
      if (roll < edge) {
        const response = await send(url, body, headers, init);
        await response.arrayBuffer();
        stats.lostResponses++;
        throw new TypeError('fetch failed (injected: the response was lost)');
      }
      edge += faults.duplicate;
      if (roll < edge) {
        stats.duplicated++;
        const [first, second] = await Promise.all([
          send(url, body, headers, init),
          send(url, body, headers, init),
        ]);
        const [kept, dropped] = random() < 0.5 ? [first, second] : [second, first];
        await dropped.arrayBuffer();
        return kept;
      }
      edge += faults.replayStale;
      if (roll < edge && history.length > 0) {
        stats.replayed++;
        const stale = history[Math.floor(random() * history.length)]!;
        const response = await send(stale.url, stale.body, stale.headers);
        await response.arrayBuffer();
      }
      history.push({ url, body, headers });
      if (history.length > 50) history.shift();
    }
    return send(url, body, headers, init);
  };
}
