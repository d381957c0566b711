import type { ClientMessage, ServerMessage } from '@offsync/core';
import { decodeServerMessage, encodeMessage } from '@offsync/core/codec';
import { WebSocket } from 'ws';

/** A raw WebSocket to a database: what the tests send and the decoded frames back, in order. */
export interface RawSocket {
  /** The underlying socket (to pause it, terminate it, send odd frames). */
  readonly socket: WebSocket;
  /** How the socket closed, once it has. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Sends raw bytes (or text) as one frame. */
  send(bytes: Uint8Array | string): void;
  /** The next decoded frame from the server (rejects after `timeoutMs`). */
  next(timeoutMs?: number): Promise<ServerMessage>;
  /** Sends `message` and waits for the next frame. */
  request(message: ClientMessage): Promise<ServerMessage>;
}

/**
 * Opens a WebSocket to `database`'s sync endpoint on the server at `serverUrl`, with no client
 * logic in between: raw-protocol tests speak through it.
 */
export async function openRawSocket(serverUrl: string, database: string): Promise<RawSocket> {
  const socket = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}/v1/databases/${database}/ws`);
  const inbox: ServerMessage[] = [];
  const waiters: ((message: ServerMessage) => void)[] = [];
  socket.on('message', (data: Buffer) => {
    const message = decodeServerMessage(new Uint8Array(data));
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const next = (timeoutMs = 5_000): Promise<ServerMessage> => {
    const queued = inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within the time')), timeoutMs);
      waiters.push((message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  };
  return {
    socket,
    closed,
    send: (bytes) => socket.send(bytes),
    next,
    request(message) {
      socket.send(encodeMessage(message));
      return next();
    },
  };
}
