import { useEffect, useState } from "react";
import { type Item, items as loadItems } from "./api";

const GENDERS = ["", "men", "women", "unisex", "boys", "girls"];
const CATEGORIES = ["", "Apparel", "Footwear", "Accessories", "Personal Care"];

interface Props {
  onDone(picked: string[]): void;
  load?: typeof loadItems;
}

/** A grid of product photos to pick a few liked items from, with filters and a search box. */
export function SelectionPage({ onDone, load = loadItems }: Props) {
  const [gender, setGender] = useState("");
  const [category, setCategory] = useState("");
  const [q, setQ] = useState("");
  const [shown, setShown] = useState<Item[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[]>([]);

  useEffect(() => {
    let current = true;
    setShown(null);
    const wait = setTimeout(() => {
      load({ gender, category, q })
        .then((page) => current && (setShown(page.items), setError(null)))
        .catch((e: Error) => current && setError(e.message));
    }, 200);
    return () => {
      current = false;
      clearTimeout(wait);
    };
  }, [gender, category, q, load]);

  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  return (
    <section aria-labelledby="pick-heading">
      <h2 id="pick-heading">Pick a few things you like</h2>
      <div className="filters">
        <label>
          Gender
          <select value={gender} onChange={(e) => setGender(e.target.value)}>
            {GENDERS.map((g) => <option key={g} value={g}>{g || "any"}</option>)}
          </select>
        </label>
        <label>
          Category
          <select value={category} onChange={(e) => setCategory(e.target.value)}>
            {CATEGORIES.map((c) => <option key={c} value={c}>{c || "any"}</option>)}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. blue shirt" />
        </label>
        <button type="button" className="primary" onClick={() => onDone(picked)}>
          {picked.length ? `Show recommendations (${picked.length} picked)` : "Skip"}
        </button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {!error && shown === null && <p role="status">Loading products…</p>}
      {shown?.length === 0 && <p role="status">Nothing matches; try other filters.</p>}
      <ul className="grid">
        {shown?.map((item) => (
          <li key={item.id}>
            <button type="button" className={picked.includes(item.id) ? "card picked" : "card"} aria-pressed={picked.includes(item.id)} onClick={() => toggle(item.id)}>
              {item.image_url && <img src={item.image_url} alt={item.title ?? item.id} loading="lazy" width={150} height={200} />}
              <span>{item.title}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
