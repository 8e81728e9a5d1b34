import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Item, Recommendation, Session } from "./api";
import { EventBatcher, type Transport } from "./events";
import { ResultsPage } from "./ResultsPage";
import { SelectionPage } from "./SelectionPage";

const noAttributes: Item["attributes"] = {
  gender: null, category: null, sub_category: null, article_type: null, colour: null,
  season: null, usage: null, year: null, price: null, brand: null,
};

const item = (id: string, title: string): Item => ({
  id,
  title,
  description: null,
  image_url: `/v1/items/${id}/image`,
  modality: "text_and_image",
  attributes: { ...noAttributes, colour: "Navy Blue", article_type: "Shirts" },
});

afterEach(cleanup);

describe("SelectionPage", () => {
  it("shows photos with alt text, filters, and passes on the picked items", async () => {
    const load = vi.fn(async () => ({ items: [item("1", "Blue Shirt"), item("2", "Red Shoe")], total: 2 }));
    const onDone = vi.fn();
    render(<SelectionPage onDone={onDone} load={load} />);
    expect(screen.getByRole("status").textContent).toMatch(/Loading/);
    const shirt = await screen.findByAltText("Blue Shirt");
    expect(shirt.getAttribute("src")).toBe("/v1/items/1/image");
    fireEvent.click(shirt.closest("button")!);
    expect(shirt.closest("button")!.getAttribute("aria-pressed")).toBe("true");
    fireEvent.change(screen.getByLabelText("Gender"), { target: { value: "men" } });
    await waitFor(() => expect(load).toHaveBeenLastCalledWith({ gender: "men", category: "", q: "" }));
    fireEvent.click(screen.getByRole("button", { name: /Show recommendations \(1 picked\)/ }));
    expect(onDone).toHaveBeenCalledWith(["1"]);
  });

  it("says plainly when the service is down", async () => {
    const load = vi.fn(async () => {
      throw new Error("the recommendation service cannot be reached");
    });
    render(<SelectionPage onDone={() => {}} load={load} />);
    expect((await screen.findByRole("alert")).textContent).toMatch(/cannot be reached/);
  });
});

const visitor: Session = { session_id: "s", token: "tok", expires_at_ms: Date.now() + 86_400_000 };

describe("ResultsPage", () => {
  it("shows name, colour and reason, records views, and refreshes after a like", async () => {
    const posted: string[] = [];
    const transport: Transport = {
      post: async (body) => (posted.push(body), { kind: "accepted" }),
      beacon: () => true,
    };
    const batcher = new EventBatcher("s", "tok", transport, 100, 60_000);
    const first: Recommendation[] = [{ item: item("1", "Blue Shirt"), score: 0.9, reason: "similar to Navy Shirt" }];
    const second: Recommendation[] = [{ item: item("3", "Navy Polo"), score: 0.8, reason: "similar to Blue Shirt" }];
    const load = vi.fn().mockResolvedValueOnce(first).mockResolvedValue(second);
    render(<ResultsPage visitor={visitor} batcher={batcher} onBack={() => {}} load={load} />);
    expect(await screen.findByText("similar to Navy Shirt")).toBeTruthy();
    expect(screen.getByText("Shirts · Navy Blue")).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Like Blue Shirt" }));
    });
    expect(await screen.findByText("Navy Polo")).toBeTruthy();
    const sent = posted.flatMap((body) => (JSON.parse(body) as { events: { kind: string; item_id: string }[] }).events);
    expect(sent).toContainEqual(expect.objectContaining({ kind: "view", item_id: "1" }));
    expect(sent).toContainEqual(expect.objectContaining({ kind: "like", item_id: "1" }));
    batcher.stop();
  });

  it("gives an item without a photo a card that says what it is", async () => {
    const batcher = new EventBatcher("s", "tok", { post: async () => ({ kind: "accepted" }), beacon: () => true }, 100, 60_000);
    const plain: Recommendation = { item: { ...item("5", "Plain Tee"), image_url: null }, score: 0.7, reason: "close to your picks taken together" };
    render(<ResultsPage visitor={visitor} batcher={batcher} onBack={() => {}} load={async () => [plain]} />);
    const card = await screen.findByRole("img", { name: "Plain Tee: no photo" });
    expect(card.textContent).toContain("Shirts");
    expect(card.textContent).toContain("no photo yet");
    batcher.stop();
  });
});
