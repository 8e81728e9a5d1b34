import { useEffect, useState } from "react";
import { type Session, session as loadSession, modelReady } from "./api";
import { EventBatcher } from "./events";
import { SelectionPage } from "./SelectionPage";
import { ResultsPage } from "./ResultsPage";

export function App() {
  const [visitor, setVisitor] = useState<Session | null>(null);
  const [batcher, setBatcher] = useState<EventBatcher | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [page, setPage] = useState<"select" | "results">("select");
  const [ready, setReady] = useState(true);

  useEffect(() => {
    loadSession()
      .then((s) => {
        setVisitor(s);
        setBatcher(new EventBatcher(s.session_id, s.token));
      })
      .catch((e: Error) => setError(e.message));
    void modelReady().then(setReady);
  }, []);

  useEffect(() => {
    if (!batcher) return;
    const onHide = () => document.visibilityState === "hidden" && batcher.flushOnHide();
    document.addEventListener("visibilitychange", onHide);
    return () => {
      document.removeEventListener("visibilitychange", onHide);
      batcher.stop();
    };
  }, [batcher]);

  return (
    <main>
      <header>
        <h1>Tailor</h1>
        {!ready && <p role="status" className="notice">No trained model yet: recommendations follow item similarity only.</p>}
      </header>
      {error && <p role="alert" className="error">{error}</p>}
      {!error && (!visitor || !batcher) && <p role="status">Loading…</p>}
      {visitor && batcher && page === "select" && (
        <SelectionPage
          onDone={async (picked) => {
            picked.forEach((id) => batcher.record(id, "like"));
            await batcher.flush();
            setPage("results");
          }}
        />
      )}
      {visitor && batcher && page === "results" && (
        <ResultsPage visitor={visitor} batcher={batcher} onBack={() => setPage("select")} />
      )}
    </main>
  );
}
