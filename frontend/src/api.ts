// The ranking service's API, as the app uses it. Same origin: `tailor serve` serves the app.

import type { components } from "./api.gen";

// The shapes come from the service's OpenAPI document (`npm run api-types` writes api.gen.ts from
// it before every type check and build), so a change there that the app does not follow breaks
// the build.
type Schemas = components["schemas"];
export type Item = Schemas["Item"];
export type Recommendation = Schemas["Recommendations"]["items"][number];
export type Session = Schemas["Session"];
type EventIn = Schemas["Events"]["events"][number];
export type EventKind = Exclude<EventIn["kind"], "rating">;

/** No timestamp: the service stamps events with its own clock, since a visitor's may be minutes
 * off, and events timestamped outside the service's window are refused. */
export type InteractionEvent = Required<Pick<EventIn, "event_id" | "subject" | "item_id">> & { kind: EventKind };

export class ApiError extends Error {}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(body?.error?.message ?? `the service answered ${response.status}`);
  }
  return response.json() as Promise<T>;
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError("the recommendation service cannot be reached");
  }
  return json<T>(response);
}

const SESSION_KEY = "tailor.session";
/** A saved session this close to its expiry is replaced rather than used. */
const RENEW_BEFORE_MS = 60 * 60 * 1000;

/** The visitor's anonymous session, kept in localStorage until its token nears its expiry;
 * nothing personal is stored. */
export async function session(now = Date.now()): Promise<Session> {
  const saved = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null") as Partial<Session> | null;
  if (saved?.session_id && saved.token && (saved.expires_at_ms ?? 0) > now + RENEW_BEFORE_MS) return saved as Session;
  const created = await call<Session>("/v1/sessions", { method: "POST" });
  localStorage.setItem(SESSION_KEY, JSON.stringify(created));
  return created;
}

/** Items with photos to pick from: what is popular in the shop now first, then the service's
 * spread order (one from each shelf, gender and article type, in turn), so any page, filtered or
 * searched, opens with what shoppers pick and still shows variety. */
export function items(filter: { gender?: string; category?: string; q?: string }, limit = 48): Promise<{ items: Item[]; total: number }> {
  const query = new URLSearchParams({ limit: String(limit), with_photo: "true", order: "trending" });
  if (filter.gender) query.set("gender", filter.gender);
  if (filter.category) query.set("category", filter.category);
  if (filter.q) query.set("q", filter.q);
  return call(`/v1/items?${query}`);
}

/** The visitor's live top k, read with its session's token; items with a photo are preferred,
 * as a shop's page would. */
export async function recommendations(visitor: Session, k = 12): Promise<Recommendation[]> {
  const query = new URLSearchParams({ k: String(k), prefer_photos: "true" });
  const path = `/v1/users/${encodeURIComponent(visitor.session_id)}/recommendations?${query}`;
  const body = await call<{ items: Recommendation[] }>(path, { headers: { authorization: `Bearer ${visitor.token}` } });
  return body.items;
}

/** Whether a trained model ranks; `false` means recommendations use content vectors only. */
export async function modelReady(): Promise<boolean> {
  try {
    return (await fetch("/readyz")).ok;
  } catch {
    return false;
  }
}
