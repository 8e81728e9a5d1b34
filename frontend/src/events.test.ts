import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBatcher, MAX_EVENTS_PER_REQUEST, type PostOutcome, type Transport, outcome, uuidv7 } from "./events";

function transport(answer: PostOutcome = { kind: "accepted" }) {
  const posts: { body: unknown; token: string }[] = [];
  const beacons: unknown[] = [];
  const t: Transport = {
    post: vi.fn(async (body: string, token: string) => {
      posts.push({ body: JSON.parse(body), token });
      return answer;
    }),
    beacon: vi.fn((body: string) => {
      beacons.push(JSON.parse(body));
      return true;
    }),
  };
  return { t, posts, beacons };
}

describe("EventBatcher", () => {
  afterEach(() => vi.useRealTimers());

  it("sends a batch on the interval, with the session's token", async () => {
    vi.useFakeTimers();
    const { t, posts } = transport();
    const batcher = new EventBatcher("s-1", "tok", t, 20, 1000);
    batcher.record("a", "view");
    batcher.record("b", "like");
    expect(posts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(posts).toHaveLength(1);
    expect(posts[0].token).toBe("tok");
    expect((posts[0].body as { events: { item_id: string; kind: string; subject: string }[] }).events.map((e) => [e.item_id, e.kind, e.subject])).toEqual([
      ["a", "view", "s-1"],
      ["b", "like", "s-1"],
    ]);
    batcher.stop();
  });

  it("sends at once when a batch is full", async () => {
    const { t, posts } = transport();
    const batcher = new EventBatcher("s", "tok", t, 3, 60_000);
    ["a", "b", "c"].forEach((id) => batcher.record(id, "view"));
    await Promise.resolve();
    expect(posts).toHaveLength(1);
    expect(batcher.pending()).toBe(0);
    batcher.stop();
  });

  it("keeps events a failed post could not deliver, and resends them with the same ids", async () => {
    const { t, posts } = transport({ kind: "retry" });
    const batcher = new EventBatcher("s", "tok", t, 20, 60_000);
    batcher.record("a", "like");
    expect(await batcher.flush()).toBe(false);
    expect(batcher.pending()).toBe(1);
    await batcher.flush();
    const ids = posts.map((p) => (p.body as { events: { event_id: string }[] }).events[0].event_id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    batcher.stop();
  });

  it("drops a batch the service refused, and reports it", async () => {
    const { t } = transport({ kind: "refused", status: 422, message: "event 0: no item" });
    const refused: [number, string, number][] = [];
    const batcher = new EventBatcher("s", "tok", t, 20, 60_000, (status, message, events) => refused.push([status, message, events.length]));
    batcher.record("a", "like");
    batcher.record("b", "like");
    expect(await batcher.flush()).toBe(true);
    expect(batcher.pending()).toBe(0);
    expect(refused).toEqual([[422, "event 0: no item", 2]]);
    batcher.stop();
  });

  it("sends no more than the service takes in one request", async () => {
    const { t, posts } = transport();
    const batcher = new EventBatcher("s", "tok", t, 5000, 60_000);
    for (let i = 0; i < MAX_EVENTS_PER_REQUEST + 1; i++) batcher.record(`i${i}`, "view");
    await batcher.flush();
    expect(posts.map((p) => (p.body as { events: unknown[] }).events.length)).toEqual([MAX_EVENTS_PER_REQUEST, 1]);
    batcher.stop();
  });

  it("sends again after a timeout, a rate limit or a server error, and never after another 4xx", async () => {
    const kinds = await Promise.all([202, 400, 401, 403, 408, 413, 422, 429, 500, 503].map(async (s) => (await outcome(s, async () => "m")).kind));
    expect(kinds).toEqual(["accepted", "refused", "refused", "refused", "retry", "refused", "refused", "retry", "retry", "retry"]);
  });

  it("gives each event a distinct UUIDv7 that sorts by time", () => {
    const first = uuidv7(1_700_000_000_000);
    const later = uuidv7(1_700_000_000_001);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.slice(0, 13)).toBe("018bcfe5-6800");
    expect(later > first).toBe(true);
    expect(uuidv7(1_700_000_000_000)).not.toBe(first);
  });

  it("hands everything to a beacon when the page is hidden, token in the body", () => {
    const { t, beacons, posts } = transport();
    const batcher = new EventBatcher("s", "tok", t, 20, 60_000);
    batcher.record("a", "dislike");
    batcher.flushOnHide();
    expect(posts).toHaveLength(0);
    expect(beacons).toEqual([{ events: [expect.objectContaining({ item_id: "a", kind: "dislike" })], token: "tok" }]);
    expect(batcher.pending()).toBe(0);
    batcher.stop();
  });
});
