// Interaction events leave in batches: every `intervalMs`, when `maxBatch` are waiting, or when
// the page is hidden (then with `navigator.sendBeacon`, which survives the page closing and
// carries the token in the body, since a beacon cannot set headers).

import type { EventKind, InteractionEvent } from "./api";

export interface Transport {
  post(body: string, token: string): Promise<boolean>;
  beacon(body: string): boolean;
}

export const browserTransport: Transport = {
  async post(body, token) {
    const response = await fetch("/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    });
    return response.status === 202;
  },
  beacon(body) {
    return navigator.sendBeacon("/v1/events", new Blob([body], { type: "text/plain" }));
  },
};

export class EventBatcher {
  private queue: InteractionEvent[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly subject: string,
    private readonly token: string,
    private readonly transport: Transport = browserTransport,
    private readonly maxBatch = 20,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
  }

  /** Queues one event; a full batch is sent at once. */
  record(item_id: string, kind: EventKind): void {
    this.queue.push({ subject: this.subject, item_id, kind });
    if (this.queue.length >= this.maxBatch) void this.flush();
  }

  /** Sends what is queued; failed events go back to the front of the queue. */
  async flush(): Promise<boolean> {
    if (this.queue.length === 0) return true;
    const batch = this.queue.splice(0, this.queue.length);
    const sent = await this.transport.post(JSON.stringify({ events: batch }), this.token).catch(() => false);
    if (!sent) this.queue.unshift(...batch);
    return sent;
  }

  /** For `visibilitychange` to hidden: hands everything to the browser to deliver. */
  flushOnHide(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.queue.length);
    if (!this.transport.beacon(JSON.stringify({ events: batch, token: this.token }))) this.queue.unshift(...batch);
  }

  pending(): number {
    return this.queue.length;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
