import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { type Item, type Recommendation, type Session, recommendations as loadRecommendations } from "./api";
import type { EventBatcher } from "./events";

interface Props {
  visitor: Session;
  batcher: EventBatcher;
  onBack(): void;
  load?: typeof loadRecommendations;
}

const POLL_MS = 250;
const POLL_FOR_MS = 3000;

/** Live top-K: after a like or dislike the events go out at once and the list is polled until
 * it changes, so the new ranking shows within a second. */
export function ResultsPage({ visitor, batcher, onBack, load = loadRecommendations }: Props) {
  const [results, setResults] = useState<Recommendation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seen = useRef(new Set<string>());
  const answeredAt = useRef(0);

  const refresh = useCallback(async () => {
    try {
      const next = await load(visitor);
      answeredAt.current = performance.now();
      setResults(next);
      setError(null);
      return next;
    } catch (e) {
      setError((e as Error).message);
      return null;
    }
  }, [visitor, load]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // Marks the paint of each new list, for the end-to-end timing, and records views.
  useLayoutEffect(() => {
    if (!results) return;
    requestAnimationFrame(() => {
      performance.mark("results-painted", { detail: { sinceAnswer: performance.now() - answeredAt.current } });
    });
    for (const r of results) {
      if (!seen.current.has(r.item.id)) {
        seen.current.add(r.item.id);
        batcher.record(r.item.id, "view");
      }
    }
  }, [results, batcher]);

  const react = async (id: string, kind: "like" | "dislike") => {
    performance.mark("feedback-clicked");
    batcher.record(id, kind);
    await batcher.flush();
    const before = results?.map((r) => r.item.id).join();
    const started = performance.now();
    while (performance.now() - started < POLL_FOR_MS) {
      const next = await refresh();
      if (next && next.map((r) => r.item.id).join() !== before) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Picked for you</h2>
      <button type="button" onClick={onBack}>Pick more</button>
      {error && <p role="alert" className="error">{error}</p>}
      {!error && results === null && <p role="status">Loading recommendations…</p>}
      {results?.length === 0 && <p role="status">No recommendations yet.</p>}
      <ol className="grid results">
        {results?.map((r) => (
          <li key={r.item.id} className="card">
            {r.item.image_url ? (
              <a href={r.item.image_url} onClick={() => batcher.record(r.item.id, "click")} target="_blank" rel="noreferrer">
                <img src={r.item.image_url} alt={r.item.title ?? r.item.id} width={150} height={200} />
              </a>
            ) : (
              <TextCard item={r.item} />
            )}
            <strong>{r.item.title}</strong>
            {kind(r.item) && <span className="kind">{kind(r.item)}</span>}
            <em>{r.reason}</em>
            <span className="actions">
              <button type="button" aria-label={`Like ${r.item.title}`} onClick={() => void react(r.item.id, "like")}>Like</button>
              <button type="button" aria-label={`Dislike ${r.item.title}`} onClick={() => void react(r.item.id, "dislike")}>Dislike</button>
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** What kind of item it is, as a shopper reads it: "Sports Shoes · White". */
function kind(item: Item): string {
  return [item.attributes.article_type, item.attributes.colour].filter(Boolean).join(" · ");
}

/** Stands in for a photo the shop has not supplied: the item's kind and colour, set as a card. */
function TextCard({ item }: { item: Item }) {
  return (
    <span className="text-card" role="img" aria-label={`${item.title ?? item.id}: no photo`}>
      <span className="text-card-type">{item.attributes.article_type ?? "Item"}</span>
      {item.attributes.colour && <span className="text-card-colour">{item.attributes.colour}</span>}
      <span className="text-card-note">no photo yet</span>
    </span>
  );
}
