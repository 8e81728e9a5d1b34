// Interaction events leave in batches: every `intervalMs`, when `maxBatch` are waiting, or when
// the page is hidden (then with `navigator.sendBeacon`, which survives the page closing and
// carries the token in the body, since a beacon cannot set headers). Each event gets a UUIDv7
// when it is recorded, so a batch sent again after a lost answer is recognised by the service
// and counted once.

import type { EventKind, InteractionEvent } from "./api";

/** The service takes at most this many events in one request. */
export const MAX_EVENTS_PER_REQUEST = 1000;

/** How the service answered a batch: kept, worth sending again, or refused for good. */
export type PostOutcome = { kind: "accepted" } | { kind: "retry" } | { kind: "refused"; status: number; message: string };

export interface Transport {
  post(body: string, token: string): Promise<PostOutcome>;
  beacon(body: string): boolean;
}

export const browserTransport: Transport = {
  async post(body, token) {
    const response = await fetch("/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    });
    return outcome(response.status, async () => (await response.json().catch(() => null))?.error?.message);
  },
  beacon(body) {
    return navigator.sendBeacon("/v1/events", new Blob([body], { type: "text/plain" }));
  },
};

/** 202 is kept; a timeout, a rate limit or a server error may pass; any other 4xx will not. */
export async function outcome(status: number, message: () => Promise<string | undefined>): Promise<PostOutcome> {
  if (status === 202) return { kind: "accepted" };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return { kind: "refused", status, message: (await message()) ?? `the service answered ${status}` };
  }
  return { kind: "retry" };
}

/** A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by time. */
export function uuidv7(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(now / 2 ** (8 * (5 - i))) & 0xff;
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class EventBatcher {
  private queue: InteractionEvent[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly subject: string,
    private readonly token: string,
    private readonly transport: Transport = browserTransport,
    private readonly maxBatch = 20,
    intervalMs = 1000,
    /** Told of each batch the service refused; those events are dropped, not sent again. */
    private readonly onRefused: (status: number, message: string, events: InteractionEvent[]) => void = (status, message, events) =>
      console.warn(`tailor: ${events.length} events refused (${status}): ${message}`),
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
  }

  /** Queues one event; a full batch is sent at once. */
  record(item_id: string, kind: EventKind): void {
    this.queue.push({ event_id: uuidv7(), subject: this.subject, item_id, kind });
    if (this.queue.length >= this.maxBatch) void this.flush();
  }

  /** Sends what is queued, at most the service's limit per request. Events that may still get
   * through go back to the front of the queue; refused ones are reported and dropped. */
  async flush(): Promise<boolean> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_EVENTS_PER_REQUEST);
      const answer = await this.transport.post(JSON.stringify({ events: batch }), this.token).catch((): PostOutcome => ({ kind: "retry" }));
      if (answer.kind === "retry") {
        this.queue.unshift(...batch);
        return false;
      }
      if (answer.kind === "refused") this.onRefused(answer.status, answer.message, batch);
    }
    return true;
  }

  /** For `visibilitychange` to hidden: hands everything to the browser to deliver. */
  flushOnHide(): void {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_EVENTS_PER_REQUEST);
      if (!this.transport.beacon(JSON.stringify({ events: batch, token: this.token }))) {
        this.queue.unshift(...batch);
        return;
      }
    }
  }

  pending(): number {
    return this.queue.length;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
