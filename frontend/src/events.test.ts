import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBatcher, type Transport } from "./events";

function transport(answer = true) {
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

  it("keeps events a failed post could not deliver", async () => {
    const { t } = transport(false);
    const batcher = new EventBatcher("s", "tok", t, 20, 60_000);
    batcher.record("a", "like");
    expect(await batcher.flush()).toBe(false);
    expect(batcher.pending()).toBe(1);
    batcher.stop();
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
